//! Service endpoints following pod readiness: Endpoints addresses/notReadyAddresses and EndpointSlice conditions.

use std::collections::BTreeSet;

use e2e::simnodes::{TestNode, node_set_shared, place};
use serde_json::{Value, json};

use crate::common::{get_json, list, namespace, pod_ready, pods_summary, s, until};

fn pod(name: &str, group: &str) -> String {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": place(json!({"containers": [{
            "name": "app",
            "image": "registry.example/web:1",
            "ports": [{"containerPort": 8080}],
        }]}), group),
    })
    .to_string()
}

fn ips(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| s(a, "/ip").to_owned())
        .collect()
}

/// `(addresses, notReadyAddresses)` of the Endpoints object `web`.
fn endpoints(ns: &e2e::Namespace) -> Result<(BTreeSet<String>, BTreeSet<String>), String> {
    let ep = get_json(ns, &["endpoints", "web"])?;
    let subset = ep.pointer("/subsets/0");
    let ports: Vec<i64> = subset
        .and_then(|x| x["ports"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p["port"].as_i64())
        .collect();
    if subset.is_some() && ports != [8080] {
        return Err(format!("ports should be [8080]: {ep}"));
    }
    Ok((
        ips(subset.and_then(|x| x.get("addresses"))),
        ips(subset.and_then(|x| x.get("notReadyAddresses"))),
    ))
}

/// `ready` condition of each address in the Service's EndpointSlices.
fn slice_readiness(ns: &e2e::Namespace) -> Result<Vec<(String, bool)>, String> {
    let slices = list(ns, "endpointslices", "kubernetes.io/service-name=web")?;
    let mut out: Vec<(String, bool)> = slices
        .iter()
        .flat_map(|sl| sl["endpoints"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            (
                s(&e, "/addresses/0").to_owned(),
                e.pointer("/conditions/ready") == Some(&Value::Bool(true)),
            )
        })
        .collect();
    out.sort();
    Ok(out)
}

#[test]
fn service_endpoints_follow_pod_readiness() {
    let _nodes = node_set_shared();
    let (ns, group) = namespace("svc");
    let node = TestNode::dedicated(&group, "n0", true);
    ns.create(&pod("web-0", &group));
    ns.create(&pod("web-1", &group));
    ns.create(
        &json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
        })
        .to_string(),
    );
    let (ip0, ip1) = until("both pods ready with IPs", || {
        let pods = list(&ns, "pods", "app=web")?;
        let ip = |n: &str| {
            pods.iter()
                .find(|p| s(p, "/metadata/name") == n && pod_ready(p))
                .map(|p| s(p, "/status/podIP").to_owned())
                .filter(|ip| !ip.is_empty())
        };
        ip("web-0")
            .zip(ip("web-1"))
            .ok_or_else(|| pods_summary(&pods))
    });
    let both: BTreeSet<String> = [ip0.clone(), ip1.clone()].into();
    let want = |ready: &[&String], not_ready: &[&String]| {
        let r: BTreeSet<String> = ready.iter().map(|s| (*s).clone()).collect();
        let nr: BTreeSet<String> = not_ready.iter().map(|s| (*s).clone()).collect();
        let mut slices: Vec<(String, bool)> = r
            .iter()
            .map(|ip| (ip.clone(), true))
            .chain(nr.iter().map(|ip| (ip.clone(), false)))
            .collect();
        slices.sort();
        (r, nr, slices)
    };
    let settle =
        |what: &str, (r, nr, sl): (BTreeSet<String>, BTreeSet<String>, Vec<(String, bool)>)| {
            until(what, || {
                let ep = endpoints(&ns)?;
                let slices = slice_readiness(&ns)?;
                if ep == (r.clone(), nr.clone()) && slices == sl {
                    Ok(())
                } else {
                    Err(format!(
                        "endpoints (ready, notReady) {ep:?}; slice endpoints {slices:?}"
                    ))
                }
            })
        };
    settle("both addresses ready", want(&[&ip0, &ip1], &[]));
    assert_eq!(endpoints(&ns).unwrap().0, both);

    node.set_ready(ns.name(), "web-0", false).unwrap();
    settle(
        "web-0's address moved to notReadyAddresses",
        want(&[&ip1], &[&ip0]),
    );

    node.set_ready(ns.name(), "web-0", true).unwrap();
    settle("web-0's address ready again", want(&[&ip0, &ip1], &[]));
}
