//! Resource quantities of pods and nodes as the scheduler counts them.

use apimachinery::quantity::Quantity;
use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;
use std::collections::BTreeMap;

/// CPU the scoring functions assume for a container that requests none (100m).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory the scoring functions assume for a container that requests none (200Mi).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// An amount of each resource: CPU in millicores, the rest in base units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// Extended and hugepage resources by name.
    pub scalar: BTreeMap<String, i64>,
}

fn parse(q: &KQuantity, milli: bool) -> i64 {
    match q.0.parse::<Quantity>() {
        Ok(v) if milli => v.milli_value(),
        Ok(v) => v.value(),
        Err(_) => 0,
    }
}

impl Resources {
    /// Reads a `ResourceList` (requests, capacity or allocatable).
    pub fn from_list(list: Option<&BTreeMap<String, KQuantity>>) -> Self {
        let mut r = Resources::default();
        for (name, q) in list.into_iter().flatten() {
            r.set(name, q);
        }
        r
    }

    fn set(&mut self, name: &str, q: &KQuantity) {
        match name {
            "cpu" => self.milli_cpu = parse(q, true),
            "memory" => self.memory = parse(q, false),
            "ephemeral-storage" => self.ephemeral_storage = parse(q, false),
            // Pods are counted separately against allocatable "pods".
            "pods" => {}
            other => {
                self.scalar.insert(other.to_string(), parse(q, false));
            }
        }
    }

    /// Adds `o` into `self`.
    pub fn add(&mut self, o: &Resources) {
        self.milli_cpu += o.milli_cpu;
        self.memory += o.memory;
        self.ephemeral_storage += o.ephemeral_storage;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() += v;
        }
    }

    /// Subtracts `o` from `self`.
    pub fn sub(&mut self, o: &Resources) {
        self.milli_cpu -= o.milli_cpu;
        self.memory -= o.memory;
        self.ephemeral_storage -= o.ephemeral_storage;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() -= v;
        }
    }

    /// Takes the larger amount of each resource.
    pub fn max_with(&mut self, o: &Resources) {
        self.milli_cpu = self.milli_cpu.max(o.milli_cpu);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    /// Whether every amount is zero.
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.values().all(|v| *v == 0)
    }
}

fn container_requests(c: &Container) -> Resources {
    Resources::from_list(c.resources.as_ref().and_then(|r| r.requests.as_ref()))
}

fn non_zero(c: &Container) -> Resources {
    let mut r = container_requests(c);
    let req = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    if !req.is_some_and(|m| m.contains_key("cpu")) {
        r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
    }
    if !req.is_some_and(|m| m.contains_key("memory")) {
        r.memory = DEFAULT_MEMORY_REQUEST;
    }
    r
}

fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// What the pod requests, by Kubernetes' rule: the sum over app containers and
/// sidecars, or the largest init container (plus the sidecars started before it) if
/// that is more, plus pod overhead. Pod-level requests replace the computed ones.
pub fn pod_requests(pod: &Pod) -> Resources {
    compute(pod, container_requests, true)
}

/// Like [`pod_requests`] but with 100m CPU and 200Mi memory for containers that
/// request none, which keeps scoring from piling best-effort pods on one node.
pub fn pod_non_zero_requests(pod: &Pod) -> Resources {
    compute(pod, non_zero, false)
}

fn compute(pod: &Pod, per: impl Fn(&Container) -> Resources, pod_level: bool) -> Resources {
    let Some(spec) = pod.spec.as_ref() else {
        return Resources::default();
    };
    let mut sum = Resources::default();
    for c in &spec.containers {
        sum.add(&per(c));
    }
    let mut sidecars = Resources::default();
    let mut init_max = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let r = per(c);
        if is_sidecar(c) {
            sidecars.add(&r);
            sum.add(&r);
            init_max.max_with(&sidecars);
        } else {
            let mut during = sidecars.clone();
            during.add(&r);
            init_max.max_with(&during);
        }
    }
    sum.max_with(&init_max);
    if pod_level && let Some(req) = spec.resources.as_ref().and_then(|r| r.requests.as_ref()) {
        for (name, q) in req {
            sum.set(name, q);
        }
    }
    if let Some(o) = spec.overhead.as_ref() {
        sum.add(&Resources::from_list(Some(o)));
    }
    sum
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": v})).unwrap()
    }

    #[test]
    fn sums_containers_and_takes_init_max() {
        let p = pod(json!({
            "initContainers": [
                {"name": "i1", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}},
                {"name": "i2", "resources": {"requests": {"cpu": "500m"}}},
            ],
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
            ],
            "overhead": {"cpu": "10m"},
        }));
        let r = pod_requests(&p);
        assert_eq!(r.milli_cpu, 2010);
        assert_eq!(r.memory, 1024 * 1024 * 1024);
    }

    #[test]
    fn sidecars_add_to_the_sum_and_to_later_init_containers() {
        let p = pod(json!({
            "initContainers": [
                {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "300m"}}},
                {"name": "init", "resources": {"requests": {"cpu": "1"}}},
            ],
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}],
        }));
        assert_eq!(pod_requests(&p).milli_cpu, 1300);
    }

    #[test]
    fn non_zero_defaults_apply_per_container() {
        let p = pod(json!({"containers": [
            {"name": "a"},
            {"name": "b", "resources": {"requests": {"cpu": "1"}}},
        ]}));
        let r = pod_non_zero_requests(&p);
        assert_eq!(r.milli_cpu, 1100);
        assert_eq!(r.memory, 2 * DEFAULT_MEMORY_REQUEST);
        assert!(pod_requests(&p).memory == 0);
    }

    #[test]
    fn pod_level_requests_win() {
        let p = pod(json!({
            "resources": {"requests": {"cpu": "3"}},
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "1", "nvidia.com/gpu": "1"}}}],
        }));
        let r = pod_requests(&p);
        assert_eq!(r.milli_cpu, 3000);
        assert_eq!(r.scalar["nvidia.com/gpu"], 1);
    }
}
