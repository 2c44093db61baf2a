//! The `default/kubernetes` Service and its Endpoints and EndpointSlice, pointing at the
//! kernel's own address, as kube-apiserver maintains them.
//!
//! In-cluster clients (client-go's `rest.InClusterConfig`, kube-rs' `Config::incluster`)
//! find the API server through this Service, so every cluster has it. kube-apiserver
//! keeps the Service's first cluster IP (10.96.0.1 in the default CIDR) and rewrites the
//! endpoints to its advertise address at every start; so does the kernel, which also
//! follows a port that changed between runs (`--listen 127.0.0.1:0`).

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::response::ApiError;
use crate::server::Inner;
use crate::write::{WriteOptions, create_object, guaranteed_update};

/// The first address of the default service CIDR, reserved for this Service.
const CLUSTER_IP: &str = "10.96.0.1";
const NAME: &str = "kubernetes";
const NAMESPACE: &str = "default";

/// Creates or corrects the Service, Endpoints and EndpointSlice. An advertise address
/// that is not `IP:port` (a host name) gets the Service without endpoints, as no
/// endpoint may hold a name.
pub(crate) async fn reconcile(inner: &Arc<Inner>) -> Result<(), ApiError> {
    let addr: Option<SocketAddr> = inner.config.advertise_address.parse().ok();
    let port = addr.map_or(443, |a| a.port());
    ensure(inner, "", "v1", "services", service(port), |cur| {
        // The cluster IP is immutable and the user may have added ports; only the
        // https port's target follows the kernel.
        let mut v = cur.clone();
        if let Some(ports) = v.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
            for p in ports.iter_mut() {
                if p.get("name").and_then(Value::as_str) == Some("https") {
                    p["targetPort"] = json!(port);
                }
            }
        }
        v
    })
    .await?;
    let Some(addr) = addr else { return Ok(()) };
    let endpoints = endpoints(addr);
    let subsets = endpoints["subsets"].clone();
    ensure(inner, "", "v1", "endpoints", endpoints, |cur| {
        let mut v = cur.clone();
        v["subsets"] = subsets.clone();
        v
    })
    .await?;
    let slice = endpoint_slice(addr);
    let (eps, ports) = (slice["endpoints"].clone(), slice["ports"].clone());
    ensure(
        inner,
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        slice,
        |cur| {
            let mut v = cur.clone();
            v["addressType"] = json!(address_type(addr));
            v["endpoints"] = eps.clone();
            v["ports"] = ports.clone();
            v
        },
    )
    .await
}

/// Creates `obj` if absent, else rewrites it with `fix` when that changes it.
async fn ensure(
    inner: &Arc<Inner>,
    group: &str,
    version: &str,
    plural: &str,
    obj: Value,
    fix: impl Fn(&Value) -> Value,
) -> Result<(), ApiError> {
    let res = inner.resource(group, version, plural)?;
    let system = WriteOptions::system();
    match inner.cache.get(&res.key(NAMESPACE, NAME)) {
        None => match create_object(inner, &res, Some(NAMESPACE), obj, &system).await {
            Ok(_) => Ok(()),
            Err(e) if e.0.code() == 409 => Ok(()),
            Err(e) => Err(e),
        },
        Some(cur) => {
            let cur = cur.value();
            if fix(&cur) == cur {
                return Ok(());
            }
            guaranteed_update(
                inner,
                &res,
                Some(NAMESPACE),
                NAME,
                None,
                None,
                &system,
                |c| Ok(fix(c)),
            )
            .await
            .map(|_| ())
        }
    }
}

fn service(port: u16) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": CLUSTER_IP,
            "clusterIPs": [CLUSTER_IP],
            "sessionAffinity": "None",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
        },
    })
}

fn endpoints(addr: SocketAddr) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [{
            "addresses": [{"ip": addr.ip().to_string()}],
            "ports": [{"name": "https", "port": addr.port(), "protocol": "TCP"}],
        }],
    })
}

fn endpoint_slice(addr: SocketAddr) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"kubernetes.io/service-name": NAME},
        },
        "addressType": address_type(addr),
        "endpoints": [{
            "addresses": [addr.ip().to_string()],
            "conditions": {"ready": true},
        }],
        "ports": [{"name": "https", "port": addr.port(), "protocol": "TCP"}],
    })
}

fn address_type(addr: SocketAddr) -> &'static str {
    if addr.is_ipv4() { "IPv4" } else { "IPv6" }
}
