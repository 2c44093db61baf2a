//! Turns a webhook's clientConfig into a call target. A `service` reference is
//! resolved through the Service's Endpoints or EndpointSlices, since embedded mode
//! has no cluster DNS and no service proxy.

use super::client::{CallError, Target, url_target, with_timeout};
use super::config::{Endpoint, Hook};
use crate::server::Inner;
use serde_json::Value;

/// The target for `hook`, or the error kube-apiserver would report calling it.
pub fn target(inner: &Inner, hook: &Hook) -> Result<Target, CallError> {
    match &hook.endpoint {
        Endpoint::Url(u) => url_target(u, hook.timeout),
        Endpoint::Service {
            namespace,
            name,
            path,
            port,
        } => {
            let url = with_timeout(
                &format!("https://{name}.{namespace}.svc:{port}{path}"),
                hook.timeout,
            );
            let fail = |reason: String| CallError::Http {
                url: url.clone(),
                reason,
            };
            let (ip, target_port) = endpoint_for(inner, namespace, name, *port).map_err(fail)?;
            let dial = if ip.contains(':') {
                format!("[{ip}]:{target_port}")
            } else {
                format!("{ip}:{target_port}")
            };
            Ok(Target {
                url: url.clone(),
                dial,
                server_name: format!("{name}.{namespace}.svc"),
            })
        }
    }
}

fn get(inner: &Inner, group: &str, plural: &str, ns: &str, name: &str) -> Option<Value> {
    let res = inner.registry.get(group, "v1", plural)?;
    inner.cache.get(&res.key(ns, name)).map(|o| o.value())
}

/// The service port's name, so that endpoint ports can be matched to it.
fn service_port_name(svc: &Value, port: u16) -> Option<String> {
    svc.pointer("/spec/ports")
        .and_then(Value::as_array)?
        .iter()
        .find(|p| p.get("port").and_then(Value::as_u64) == Some(u64::from(port)))
        .map(|p| {
            p.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
}

fn port_named(ports: Option<&Value>, name: &str) -> Option<u64> {
    ports
        .and_then(Value::as_array)?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str).unwrap_or("") == name)
        .and_then(|p| p.get("port").and_then(Value::as_u64))
}

/// A ready address and port serving `name`'s `port`.
fn endpoint_for(inner: &Inner, ns: &str, name: &str, port: u16) -> Result<(String, u64), String> {
    let svc = get(inner, "", "services", ns, name)
        .ok_or_else(|| format!("service \"{name}\" not found"))?;
    let port_name = service_port_name(&svc, port)
        .ok_or_else(|| format!("service \"{ns}/{name}\" does not expose port {port}"))?;
    if let Some(ep) = get(inner, "", "endpoints", ns, name) {
        for subset in ep
            .get("subsets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let ip = subset.pointer("/addresses/0/ip").and_then(Value::as_str);
            if let (Some(ip), Some(p)) = (ip, port_named(subset.get("ports"), &port_name)) {
                return Ok((ip.to_string(), p));
            }
        }
    }
    if let Some(res) = inner
        .registry
        .get("discovery.k8s.io", "v1", "endpointslices")
    {
        let (start, end) = res.range(Some(ns));
        let (slices, _, _) = inner.cache.range(&start, &end, None, 0, |_, o| {
            o.label("kubernetes.io/service-name") == Some(name)
        });
        for (_, slice) in slices {
            let slice = slice.value();
            let Some(p) = port_named(slice.get("ports"), &port_name) else {
                continue;
            };
            let ready = slice
                .get("endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|e| e.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false))
                .find_map(|e| e.pointer("/addresses/0").and_then(Value::as_str));
            if let Some(ip) = ready {
                return Ok((ip.to_string(), p));
            }
        }
    }
    Err(format!("no endpoints available for service \"{name}\""))
}
