//! The Endpoints and EndpointSlice controllers: addresses of the pods a Service selects, by readiness.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use k8s_openapi::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointPort as SlicePort, EndpointSlice,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams, PostParams};

use crate::context::{Ctx, Error};
use crate::pods;
use crate::queue;
use crate::replicaset::ignore_not_found;

/// Label naming a slice's Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Label naming the controller that manages a slice.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller's value of [`MANAGED_BY_LABEL`], as kube-controller-manager's.
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// Most endpoints in one slice (kube-controller-manager's default).
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// A resolved port: name, number, protocol, appProtocol.
type ResolvedPort = (Option<String>, i32, String, Option<String>);
/// Ports without appProtocol, as core/v1 Endpoints carry them.
type PortKey = Vec<(Option<String>, i32, String)>;
/// Ready and not-ready addresses of one Endpoints subset.
type SubsetAddresses = (Vec<EndpointAddress>, Vec<EndpointAddress>);

/// One pod as an endpoint with its resolved ports.
#[derive(Debug, Clone, PartialEq)]
struct PodEndpoint {
    ip: String,
    pod: ObjectReference,
    node: Option<String>,
    hostname: Option<String>,
    ready: bool,
    serving: bool,
    terminating: bool,
    ports: Vec<ResolvedPort>,
}

/// `podutil.FindPort`: a numeric targetPort as is, a named one from the pod's containers.
fn resolve_port(pod: &Pod, target: Option<&IntOrString>, port: i32, protocol: &str) -> Option<i32> {
    match target {
        None => Some(port),
        Some(IntOrString::Int(p)) => Some(*p),
        Some(IntOrString::String(name)) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| {
                p.name.as_deref() == Some(name)
                    && p.protocol.as_deref().unwrap_or("TCP") == protocol
            })
            .map(|p| p.container_port),
    }
}

fn pod_endpoints(svc: &Service, ns_pods: &[Arc<Pod>]) -> Vec<PodEndpoint> {
    let spec = svc.spec.clone().unwrap_or_default();
    let Some(selector) = spec.selector.clone().filter(|s| !s.is_empty()) else {
        return Vec::new();
    };
    let publish = spec.publish_not_ready_addresses.unwrap_or(false);
    let svc_name = svc.metadata.name.clone().unwrap_or_default();
    let mut out = Vec::new();
    for p in ns_pods {
        let labels = p.metadata.labels.clone().unwrap_or_default();
        if selector.iter().any(|(k, v)| labels.get(k) != Some(v)) {
            continue;
        }
        let Some(ip) = p
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.clone())
            .filter(|ip| !ip.is_empty())
        else {
            continue;
        };
        if matches!(pods::phase(p), "Succeeded" | "Failed") {
            continue;
        }
        let mut ports = Vec::new();
        for sp in spec.ports.iter().flatten() {
            let protocol = sp.protocol.clone().unwrap_or_else(|| "TCP".into());
            if let Some(port) = resolve_port(p, sp.target_port.as_ref(), sp.port, &protocol) {
                ports.push((sp.name.clone(), port, protocol, sp.app_protocol.clone()));
            }
        }
        let pspec = p.spec.clone().unwrap_or_default();
        let terminating = p.metadata.deletion_timestamp.is_some();
        let serving = pods::is_ready(p) || publish;
        out.push(PodEndpoint {
            ip,
            pod: ObjectReference {
                kind: Some("Pod".into()),
                name: p.metadata.name.clone(),
                namespace: p.metadata.namespace.clone(),
                uid: p.metadata.uid.clone(),
                ..Default::default()
            },
            node: pspec.node_name.clone(),
            hostname: pspec
                .hostname
                .clone()
                .filter(|_| pspec.subdomain.as_deref() == Some(svc_name.as_str())),
            ready: serving && !terminating,
            serving,
            terminating,
            ports,
        });
    }
    out.sort_by(|a, b| a.pod.name.cmp(&b.pod.name));
    out
}

/// The core/v1 Endpoints of `svc`: ready pods under `addresses`, others under
/// `notReadyAddresses`, terminating pods left out (unless publishNotReadyAddresses),
/// one subset per distinct port set.
pub fn desired_endpoints(svc: &Service, ns_pods: &[Arc<Pod>]) -> Endpoints {
    let publish = svc
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let mut by_ports: BTreeMap<PortKey, SubsetAddresses> = BTreeMap::new();
    for e in pod_endpoints(svc, ns_pods) {
        if e.terminating && !publish {
            continue;
        }
        let key: Vec<_> = e
            .ports
            .iter()
            .map(|(n, p, pr, _)| (n.clone(), *p, pr.clone()))
            .collect();
        if key.is_empty()
            && svc
                .spec
                .as_ref()
                .and_then(|s| s.ports.as_ref())
                .is_some_and(|p| !p.is_empty())
        {
            continue;
        }
        let addr = EndpointAddress {
            ip: e.ip,
            hostname: e.hostname,
            node_name: e.node,
            target_ref: Some(e.pod),
        };
        let entry = by_ports.entry(key).or_default();
        if e.ready || publish {
            entry.0.push(addr);
        } else {
            entry.1.push(addr);
        }
    }
    let subsets: Vec<EndpointSubset> = by_ports
        .into_iter()
        .map(|(ports, (ready, not_ready))| EndpointSubset {
            addresses: (!ready.is_empty()).then_some(ready),
            not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
            ports: (!ports.is_empty()).then(|| {
                ports
                    .into_iter()
                    .map(|(name, port, protocol)| EndpointPort {
                        name,
                        port,
                        protocol: Some(protocol),
                        app_protocol: None,
                    })
                    .collect()
            }),
        })
        .collect();
    let mut labels = svc.metadata.labels.clone().unwrap_or_default();
    if svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None") {
        labels.insert("service.kubernetes.io/headless".into(), String::new());
    }
    Endpoints {
        metadata: ObjectMeta {
            name: svc.metadata.name.clone(),
            namespace: svc.metadata.namespace.clone(),
            labels: (!labels.is_empty()).then_some(labels),
            ..Default::default()
        },
        subsets: (!subsets.is_empty()).then_some(subsets),
    }
}

/// The EndpointSlices of `svc` (without names): one group per port set, at most
/// [`MAX_ENDPOINTS_PER_SLICE`] endpoints each, with ready/serving/terminating conditions.
pub fn desired_slices(svc: &Service, ns_pods: &[Arc<Pod>]) -> Vec<EndpointSlice> {
    let svc_name = svc.metadata.name.clone().unwrap_or_default();
    let mut by_ports: BTreeMap<Vec<ResolvedPort>, Vec<Endpoint>> = BTreeMap::new();
    for e in pod_endpoints(svc, ns_pods) {
        by_ports.entry(e.ports.clone()).or_default().push(Endpoint {
            addresses: vec![e.ip],
            conditions: Some(EndpointConditions {
                ready: Some(e.ready),
                serving: Some(e.serving),
                terminating: Some(e.terminating),
            }),
            node_name: e.node,
            hostname: e.hostname,
            target_ref: Some(e.pod),
            ..Default::default()
        });
    }
    if by_ports.is_empty() {
        // A placeholder slice without ports or endpoints tells consumers the Service
        // has no endpoints, as kube-controller-manager's does.
        by_ports.insert(Vec::new(), Vec::new());
    }
    let mut labels = svc.metadata.labels.clone().unwrap_or_default();
    labels.insert(SERVICE_NAME_LABEL.into(), svc_name.clone());
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    let owner = pods::new_controller_ref(svc);
    let mut out = Vec::new();
    for (ports, endpoints) in by_ports {
        let slice_ports: Vec<SlicePort> = ports
            .iter()
            .map(|(name, port, protocol, app)| SlicePort {
                name: Some(name.clone().unwrap_or_default()),
                port: Some(*port),
                protocol: Some(protocol.clone()),
                app_protocol: app.clone(),
            })
            .collect();
        let chunks: Vec<Vec<Endpoint>> = if endpoints.is_empty() {
            vec![Vec::new()]
        } else {
            endpoints
                .chunks(MAX_ENDPOINTS_PER_SLICE)
                .map(<[Endpoint]>::to_vec)
                .collect()
        };
        for chunk in chunks {
            out.push(EndpointSlice {
                metadata: ObjectMeta {
                    generate_name: Some(format!("{svc_name}-")),
                    namespace: svc.metadata.namespace.clone(),
                    labels: Some(labels.clone()),
                    owner_references: Some(vec![owner.clone()]),
                    ..Default::default()
                },
                address_type: "IPv4".into(),
                endpoints: Some(chunk),
                ports: (!slice_ports.is_empty()).then(|| slice_ports.clone()),
            });
        }
    }
    out
}

/// Reconciles the Service `key`'s Endpoints and EndpointSlices.
pub(crate) async fn reconcile(ctx: Arc<Ctx>, key: String) -> Result<Option<Duration>, Error> {
    let (ns, name) = queue::split_key(&key);
    let ep_api: Api<Endpoints> = Api::namespaced(ctx.client.clone(), ns);
    let slice_api: Api<EndpointSlice> = Api::namespaced(ctx.client.clone(), ns);
    let svc = ctx.services.find(ns, name);
    let has_selector = svc
        .as_ref()
        .and_then(|s| s.spec.as_ref())
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|s| !s.is_empty());
    let Some(svc) = svc.filter(|_| has_selector) else {
        // Service gone: its Endpoints go too (slices follow through ownerReferences).
        // A Service without a selector keeps user-managed Endpoints untouched.
        if ctx.services.find(ns, name).is_none() {
            ignore_not_found(ep_api.delete(name, &DeleteParams::default()).await)?;
        }
        return Ok(None);
    };
    let ns_pods = ctx.pods.in_namespace(ns);

    let want = desired_endpoints(&svc, &ns_pods);
    match ep_api.get_opt(name).await? {
        None => {
            ep_api.create(&PostParams::default(), &want).await?;
        }
        Some(mut cur) => {
            if cur.subsets != want.subsets || cur.metadata.labels != want.metadata.labels {
                cur.subsets = want.subsets;
                cur.metadata.labels = want.metadata.labels;
                ep_api.replace(name, &PostParams::default(), &cur).await?;
            }
        }
    }

    let want = desired_slices(&svc, &ns_pods);
    let mut existing: Vec<EndpointSlice> = ctx
        .endpoint_slices
        .in_namespace(ns)
        .into_iter()
        .filter(|s| {
            s.metadata.labels.as_ref().is_some_and(|l| {
                l.get(SERVICE_NAME_LABEL).map(String::as_str) == Some(name)
                    && l.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
            })
        })
        .map(|s| (*s).clone())
        .collect();
    existing.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let mut existing = existing.into_iter();
    for w in want {
        match existing.next() {
            Some(mut cur) => {
                if cur.endpoints != w.endpoints
                    || cur.ports != w.ports
                    || cur.metadata.labels != w.metadata.labels
                {
                    let n = cur.metadata.name.clone().unwrap_or_default();
                    cur.endpoints = w.endpoints;
                    cur.ports = w.ports;
                    cur.metadata.labels = w.metadata.labels;
                    ignore_not_found(slice_api.replace(&n, &PostParams::default(), &cur).await)?;
                }
            }
            None => {
                slice_api.create(&PostParams::default(), &w).await?;
            }
        }
    }
    for extra in existing {
        let n = extra.metadata.name.clone().unwrap_or_default();
        ignore_not_found(slice_api.delete(&n, &DeleteParams::default()).await)?;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, PodCondition, PodSpec, PodStatus, ServicePort, ServiceSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn svc() -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("ns".into()),
                uid: Some("svc-uid".into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "web".to_string())].into()),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: 80,
                    target_port: Some(IntOrString::String("web".into())),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn pod(name: &str, ip: &str, ready: bool, terminating: bool) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                labels: Some([("app".to_string(), "web".to_string())].into()),
                deletion_timestamp: terminating.then_some(Time(jiff::Timestamp::UNIX_EPOCH)),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("n1".into()),
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![ContainerPort {
                        name: Some("web".into()),
                        container_port: 8080,
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                pod_ip: Some(ip.into()),
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        })
    }

    #[test]
    fn endpoints_split_ready_and_not_ready_with_named_ports() {
        let pods = [
            pod("a", "10.0.0.1", true, false),
            pod("b", "10.0.0.2", false, false),
            pod("c", "10.0.0.3", true, true),
        ];
        let ep = desired_endpoints(&svc(), &pods);
        let subsets = ep.subsets.unwrap();
        assert_eq!(subsets.len(), 1);
        let s = &subsets[0];
        assert_eq!(
            s.addresses
                .as_ref()
                .unwrap()
                .iter()
                .map(|a| a.ip.as_str())
                .collect::<Vec<_>>(),
            ["10.0.0.1"]
        );
        assert_eq!(s.not_ready_addresses.as_ref().unwrap()[0].ip, "10.0.0.2");
        let port = &s.ports.as_ref().unwrap()[0];
        assert_eq!((port.name.as_deref(), port.port), (Some("http"), 8080));
    }

    #[test]
    fn slices_carry_conditions_and_labels() {
        let pods = [
            pod("a", "10.0.0.1", true, false),
            pod("c", "10.0.0.3", true, true),
        ];
        let slices = desired_slices(&svc(), &pods);
        assert_eq!(slices.len(), 1);
        let s = &slices[0];
        let l = s.metadata.labels.as_ref().unwrap();
        assert_eq!(l[SERVICE_NAME_LABEL], "web");
        assert_eq!(l[MANAGED_BY_LABEL], MANAGED_BY);
        let c: Vec<_> = s
            .endpoints
            .iter()
            .flatten()
            .map(|e| e.conditions.clone().unwrap())
            .collect();
        assert_eq!(
            (c[0].ready, c[0].serving, c[0].terminating),
            (Some(true), Some(true), Some(false))
        );
        assert_eq!(
            (c[1].ready, c[1].serving, c[1].terminating),
            (Some(false), Some(true), Some(true))
        );
        assert_eq!(s.ports.as_ref().unwrap()[0].port, Some(8080));
    }

    #[test]
    fn large_services_are_split_into_slices_of_100() {
        let pods: Vec<_> = (0..250)
            .map(|i| {
                pod(
                    &format!("p{i:03}"),
                    &format!("10.0.{}.{}", i / 200, i % 200),
                    true,
                    false,
                )
            })
            .collect();
        let slices = desired_slices(&svc(), &pods);
        assert_eq!(
            slices
                .iter()
                .map(|s| s.endpoints.as_ref().map_or(0, Vec::len))
                .collect::<Vec<_>>(),
            [100, 100, 50]
        );
    }
}
