//! Defaults for pods and pod specs (kube's `SetDefaults_Pod`, `SetDefaults_PodSpec`, containers, probes, volumes).

use crate::json::{default, default_str, each_mut, obj_entry, obj_mut};
use crate::quantity::canonicalize;
use serde_json::{Value, json};

/// `SetDefaults_Pod` plus everything under its spec.
///
/// Host ports follow container ports only for pods: the gate that did it for
/// templates (`DefaultHostNetworkHostPortsInPodTemplates`) is off in v1.36.
pub(crate) fn pod(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec") {
        let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
        for list in ["initContainers", "containers"] {
            for c in each_mut(spec, list) {
                requests_from_limits(c);
                if host_network {
                    host_ports_from_container_ports(c);
                }
            }
        }
        default(spec, "enableServiceLinks", Value::Bool(true));
        pod_spec(spec);
    }
}

/// A pod template: the pod spec defaults, not the pod-only ones (enableServiceLinks).
pub(crate) fn template(template: &mut Value) {
    if let Some(spec) = template.get_mut("spec") {
        pod_spec(spec);
    }
}

/// `SetDefaults_PodSpec` and the defaulters of everything a pod spec holds.
pub(crate) fn pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_str(spec, "restartPolicy", "Always");
    service_account_alias(spec);
    default(spec, "securityContext", json!({}));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default_str(spec, "schedulerName", "default-scheduler");
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in each_mut(spec, list) {
            container(c);
        }
    }
    for v in each_mut(spec, "volumes") {
        volume(v);
    }
    if let Some(res) = spec.get_mut("resources") {
        canonical_resources(res);
    }
    crate::defaults::other::overhead(spec);
}

/// `SetDefaults_Container` plus ports, env, probes and lifecycle handlers.
fn container(c: &mut Value) {
    if !c.is_object() {
        return;
    }
    let image = c.get("image").and_then(Value::as_str).unwrap_or("");
    let policy = pull_policy_for(image);
    default_str(c, "imagePullPolicy", policy);
    default_str(c, "terminationMessagePath", "/dev/termination-log");
    default_str(c, "terminationMessagePolicy", "File");
    default(c, "resources", json!({}));
    if let Some(res) = c.get_mut("resources") {
        canonical_resources(res);
    }
    for p in each_mut(c, "ports") {
        default_str(p, "protocol", "TCP");
    }
    for e in each_mut(c, "env") {
        if let Some(field_ref) = e.pointer_mut("/valueFrom/fieldRef") {
            default_str(field_ref, "apiVersion", "v1");
        }
        if let Some(res_ref) = e.pointer_mut("/valueFrom/resourceFieldRef/divisor") {
            canonical_in_place(res_ref);
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) {
            default(p, "timeoutSeconds", json!(1));
            default(p, "periodSeconds", json!(10));
            default(p, "successThreshold", json!(1));
            default(p, "failureThreshold", json!(3));
            handler(p);
        }
    }
    if let Some(lifecycle) = c.get_mut("lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = lifecycle.get_mut(hook) {
                handler(h);
            }
        }
    }
}

/// `SetDefaults_HTTPGetAction` and `SetDefaults_GRPCAction` inside a probe or hook.
fn handler(h: &mut Value) {
    if let Some(get) = h.get_mut("httpGet").filter(|g| g.is_object()) {
        default_str(get, "path", "/");
        default_str(get, "scheme", "HTTP");
    }
    if let Some(grpc) = h.get_mut("grpc").filter(|g| g.is_object()) {
        default(grpc, "service", json!(""));
    }
}

/// Images without a tag, or tagged `latest`, are pulled every time; digests never are.
pub fn pull_policy_for(image: &str) -> &'static str {
    // An image kube cannot parse has no tag, which kube treats like a pinned one.
    if image.is_empty() || image.contains('@') {
        return "IfNotPresent";
    }
    let last_segment = image.rsplit('/').next().unwrap_or(image);
    match last_segment.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

/// `SetDefaults_Pod`: a limit without a request also sets the request.
fn requests_from_limits(c: &mut Value) {
    let Some(limits) = c
        .pointer("/resources/limits")
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    if limits.is_empty() {
        return;
    }
    let Some(resources) = obj_mut(c, "resources") else {
        return;
    };
    let requests = resources
        .entry("requests".to_string())
        .or_insert(Value::Null);
    if requests.is_null() {
        *requests = json!({});
    }
    if let Some(req) = requests.as_object_mut() {
        for (k, v) in limits {
            req.entry(k).or_insert(v);
        }
    }
}

fn host_ports_from_container_ports(c: &mut Value) {
    for p in each_mut(c, "ports") {
        if p.get("hostPort").and_then(Value::as_i64).unwrap_or(0) == 0
            && let Some(port) = p.get("containerPort").cloned()
            && let Some(m) = p.as_object_mut()
        {
            m.insert("hostPort".to_string(), port);
        }
    }
}

/// `SetDefaults_Volume` and the defaults of its source.
fn volume(v: &mut Value) {
    let Some(map) = v.as_object() else {
        return;
    };
    if map.keys().all(|k| k == "name")
        && let Some(m) = v.as_object_mut()
    {
        m.insert("emptyDir".to_string(), json!({}));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = v.get_mut(source).filter(|s| s.is_object()) {
            default(s, "defaultMode", json!(420));
        }
    }
    if let Some(items) = v.pointer_mut("/downwardAPI/items") {
        downward_items(items);
    }
    if let Some(host) = v.get_mut("hostPath").filter(|h| h.is_object()) {
        default(host, "type", json!(""));
    }
    if let Some(size) = v.pointer_mut("/emptyDir/sizeLimit") {
        canonical_in_place(size);
    }
    if let Some(sources) = v
        .pointer_mut("/projected/sources")
        .and_then(Value::as_array_mut)
    {
        for s in sources {
            if let Some(tok) = s.get_mut("serviceAccountToken").filter(|t| t.is_object()) {
                default(tok, "expirationSeconds", json!(3600));
            }
            if let Some(items) = s.pointer_mut("/downwardAPI/items") {
                downward_items(items);
            }
        }
    }
    if let Some(iscsi) = v.get_mut("iscsi").filter(|i| i.is_object()) {
        default_str(iscsi, "iscsiInterface", "default");
    }
    if let Some(rbd) = v.get_mut("rbd").filter(|r| r.is_object()) {
        default_str(rbd, "pool", "rbd");
        default_str(rbd, "user", "admin");
        default_str(rbd, "keyring", "/etc/ceph/keyring");
    }
    if let Some(azure) = v.get_mut("azureDisk").filter(|a| a.is_object()) {
        default(azure, "cachingMode", json!("ReadWrite"));
        default(azure, "fsType", json!("ext4"));
        default(azure, "readOnly", json!(false));
        default(azure, "kind", json!("Shared"));
    }
    if let Some(claim) = v.pointer_mut("/ephemeral/volumeClaimTemplate/spec") {
        crate::defaults::other::pvc_spec(claim);
    }
}

fn downward_items(items: &mut Value) {
    if let Some(items) = items.as_array_mut() {
        for item in items {
            if let Some(field_ref) = item.get_mut("fieldRef").filter(|f| f.is_object()) {
                default_str(field_ref, "apiVersion", "v1");
            }
            if let Some(divisor) = item.pointer_mut("/resourceFieldRef/divisor") {
                canonical_in_place(divisor);
            }
        }
    }
}

/// Rewrites `requests`/`limits` quantities in their canonical form.
pub(crate) fn canonical_resources(res: &mut Value) {
    for key in ["requests", "limits"] {
        if let Some(list) = obj_mut(res, key) {
            canonical_list(list);
        }
    }
}

/// Canonicalizes every quantity of a resource list; strings that are not quantities stay for validation.
pub(crate) fn canonical_list(list: &mut serde_json::Map<String, Value>) {
    for v in list.values_mut() {
        canonical_in_place(v);
    }
}

pub(crate) fn canonical_in_place(v: &mut Value) {
    let canonical = match v {
        Value::String(s) => canonicalize(s),
        Value::Number(n) => canonicalize(&n.to_string()),
        _ => None,
    };
    if let Some(c) = canonical {
        *v = Value::String(c);
    }
}

/// The pod template metadata is an `ObjectMeta` value in Go: always present, `{}` when empty.
pub(crate) fn template_metadata(template: &mut Value) {
    if template.is_object() {
        let _ = obj_entry(template, "metadata");
    }
}

/// The v1 conversion of `serviceAccount`, the deprecated alias of `serviceAccountName`:
/// read when the name is unset, always written back as a copy of the name.
fn service_account_alias(spec: &mut Value) {
    let name = spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            spec.get("serviceAccount")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .map(str::to_string);
    if let (Some(name), Some(m)) = (name, spec.as_object_mut()) {
        m.insert("serviceAccountName".to_string(), json!(name));
        m.insert("serviceAccount".to_string(), json!(name));
    }
}
