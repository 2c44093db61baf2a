//! The REST operations of one served resource, in a form both OpenAPI versions render from.

use serde_json::Value;

use crate::definitions::gvk;
use crate::params;

/// One resource the kernel serves, as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceEntry {
    /// API group, `""` for the core group.
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind of the objects.
    pub kind: String,
    /// Resource name in URLs, e.g. `pods`.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Discovery verbs: get, list, watch, create, update, patch, delete, deletecollection.
    pub verbs: Vec<String>,
    /// Subresources: `status`, `scale`, `eviction`, `token`, `binding`; others are not described.
    pub subresources: Vec<String>,
    /// Definition name of the kind, e.g. `io.k8s.api.core.v1.Pod`.
    pub definition: String,
}

/// What an operation takes as its body.
pub(crate) enum Body {
    None,
    /// An object of this definition, required.
    Object(String),
    /// A patch document (required).
    Patch {
        strategic: bool,
    },
    /// Optional `DeleteOptions`.
    DeleteOptions,
}

/// One HTTP operation.
pub(crate) struct Operation {
    pub method: &'static str,
    pub action: &'static str,
    pub id: String,
    pub description: String,
    pub query: &'static [&'static str],
    pub body: Body,
    /// Response codes that return `response`.
    pub codes: &'static [(&'static str, &'static str)],
    pub response: String,
    pub watch: bool,
    pub gvk: Value,
}

/// Path-level parameters.
pub(crate) enum PathParam {
    Name(String),
    Namespace,
    Pretty,
}

/// One path and its operations.
pub(crate) struct PathItem {
    pub path: String,
    pub params: Vec<PathParam>,
    pub operations: Vec<Operation>,
}

const OK: &[(&str, &str)] = &[("200", "OK")];
const CREATED: &[(&str, &str)] = &[("200", "OK"), ("201", "Created"), ("202", "Accepted")];
const REPLACED: &[(&str, &str)] = &[("200", "OK"), ("201", "Created")];
const DELETED: &[(&str, &str)] = &[("200", "OK"), ("202", "Accepted")];
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";

/// The URL prefix of a group version: `/api/v1` or `/apis/<group>/<version>`.
pub(crate) fn prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

fn group_words(group: &str) -> Vec<String> {
    if group.is_empty() {
        return vec!["core".to_owned()];
    }
    group
        .trim_end_matches(".k8s.io")
        .split(['.', '-'])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The group-version part of operation ids, e.g. `CoreV1`, `RbacAuthorizationV1`.
pub(crate) fn id_group_version(group: &str, version: &str) -> String {
    let words: String = group_words(group).iter().map(|w| capitalize(w)).collect();
    format!("{words}{}", capitalize(version))
}

/// The operation tag, e.g. `core_v1`, `rbacAuthorization_v1`.
pub(crate) fn tag(group: &str, version: &str) -> String {
    let words = group_words(group);
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        out.push_str(&if i == 0 { w.clone() } else { capitalize(w) });
    }
    format!("{out}_{version}")
}

/// The definition a subresource's operations read and write, with its group-version-kind.
fn subresource_target(entry: &ResourceEntry, sub: &str) -> Option<(String, Value)> {
    let own = (
        entry.definition.clone(),
        gvk(&entry.group, &entry.version, &entry.kind),
    );
    match sub {
        "status" => Some(own),
        "scale" => Some((
            "io.k8s.api.autoscaling.v1.Scale".into(),
            gvk("autoscaling", "v1", "Scale"),
        )),
        "eviction" => Some((
            "io.k8s.api.policy.v1.Eviction".into(),
            gvk("policy", "v1", "Eviction"),
        )),
        "token" => Some((
            "io.k8s.api.authentication.v1.TokenRequest".into(),
            gvk("authentication.k8s.io", "v1", "TokenRequest"),
        )),
        "binding" => Some((
            "io.k8s.api.core.v1.Binding".into(),
            gvk("", "v1", "Binding"),
        )),
        _ => None,
    }
}

/// Every path and operation of one resource, as kube-apiserver lays them out.
pub(crate) fn paths_for(
    entry: &ResourceEntry,
    list_definition: &str,
    strategic: bool,
) -> Vec<PathItem> {
    let has = |v: &str| entry.verbs.iter().any(|x| x == v);
    let gv = id_group_version(&entry.group, &entry.version);
    let kind = &entry.kind;
    let scope = if entry.namespaced { "Namespaced" } else { "" };
    let base = prefix(&entry.group, &entry.version);
    let ns = if entry.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{base}{ns}/{}", entry.plural);
    let item = format!("{collection}/{{name}}");
    let own_gvk = gvk(&entry.group, &entry.version, kind);
    let op = |method,
              action,
              id: String,
              description: String,
              query,
              body,
              codes,
              response: &str,
              watch| Operation {
        method,
        action,
        id,
        description,
        query,
        body,
        codes,
        response: response.to_owned(),
        watch,
        gvk: own_gvk.clone(),
    };
    let mut scoped_params = vec![PathParam::Pretty];
    if entry.namespaced {
        scoped_params.insert(0, PathParam::Namespace);
    }
    let item_params = || {
        let mut p = vec![PathParam::Name(kind.clone())];
        if entry.namespaced {
            p.push(PathParam::Namespace);
        }
        p.push(PathParam::Pretty);
        p
    };

    let mut out = Vec::new();
    let mut ops = Vec::new();
    if has("list") {
        ops.push(op(
            "get",
            "list",
            format!("list{gv}{scope}{kind}"),
            format!("list or watch objects of kind {kind}"),
            params::LIST,
            Body::None,
            OK,
            list_definition,
            true,
        ));
    }
    if has("create") {
        ops.push(op(
            "post",
            "post",
            format!("create{gv}{scope}{kind}"),
            format!("create a {kind}"),
            params::WRITE,
            Body::Object(entry.definition.clone()),
            CREATED,
            &entry.definition,
            false,
        ));
    }
    if has("deletecollection") {
        ops.push(op(
            "delete",
            "deletecollection",
            format!("delete{gv}Collection{scope}{kind}"),
            format!("delete collection of {kind}"),
            params::DELETE_COLLECTION,
            Body::DeleteOptions,
            OK,
            STATUS,
            false,
        ));
    }
    if !ops.is_empty() {
        out.push(PathItem {
            path: collection.clone(),
            params: scoped_params,
            operations: ops,
        });
    }

    let mut ops = Vec::new();
    if has("get") {
        ops.push(op(
            "get",
            "get",
            format!("read{gv}{scope}{kind}"),
            format!("read the specified {kind}"),
            &[],
            Body::None,
            OK,
            &entry.definition,
            false,
        ));
    }
    if has("update") {
        ops.push(op(
            "put",
            "put",
            format!("replace{gv}{scope}{kind}"),
            format!("replace the specified {kind}"),
            params::WRITE,
            Body::Object(entry.definition.clone()),
            REPLACED,
            &entry.definition,
            false,
        ));
    }
    if has("patch") {
        ops.push(op(
            "patch",
            "patch",
            format!("patch{gv}{scope}{kind}"),
            format!("partially update the specified {kind}"),
            params::PATCH,
            Body::Patch { strategic },
            REPLACED,
            &entry.definition,
            false,
        ));
    }
    if has("delete") {
        ops.push(op(
            "delete",
            "delete",
            format!("delete{gv}{scope}{kind}"),
            format!("delete a {kind}"),
            params::DELETE,
            Body::DeleteOptions,
            DELETED,
            &entry.definition,
            false,
        ));
    }
    if !ops.is_empty() {
        out.push(PathItem {
            path: item.clone(),
            params: item_params(),
            operations: ops,
        });
    }

    if entry.namespaced && has("list") {
        let ops = vec![op(
            "get",
            "list",
            format!("list{gv}{kind}ForAllNamespaces"),
            format!("list or watch objects of kind {kind}"),
            params::LIST,
            Body::None,
            OK,
            list_definition,
            true,
        )];
        out.push(PathItem {
            path: format!("{base}/{}", entry.plural),
            params: vec![PathParam::Pretty],
            operations: ops,
        });
    }
    if has("watch") {
        let watch_base = format!("{base}/watch{ns}/{}", entry.plural);
        let deprecated = "deprecated: use the 'watch' parameter with a list operation instead";
        let watchlist = op(
            "get",
            "watchlist",
            format!("watch{gv}{scope}{kind}List"),
            format!("watch individual changes to a list of {kind}. {deprecated}."),
            params::LIST,
            Body::None,
            OK,
            WATCH_EVENT,
            true,
        );
        out.push(PathItem {
            path: watch_base.clone(),
            params: scoped_clone(entry.namespaced),
            operations: vec![watchlist],
        });
        let watch_one = op(
            "get",
            "watch",
            format!("watch{gv}{scope}{kind}"),
            format!(
                "watch changes to an object of kind {kind}. {deprecated}, filtered to a single item with the 'fieldSelector' parameter."
            ),
            params::LIST,
            Body::None,
            OK,
            WATCH_EVENT,
            true,
        );
        out.push(PathItem {
            path: format!("{watch_base}/{{name}}"),
            params: item_params(),
            operations: vec![watch_one],
        });
        if entry.namespaced {
            let all = op(
                "get",
                "watchlist",
                format!("watch{gv}{kind}ListForAllNamespaces"),
                format!("watch individual changes to a list of {kind}. {deprecated}."),
                params::LIST,
                Body::None,
                OK,
                WATCH_EVENT,
                true,
            );
            out.push(PathItem {
                path: format!("{base}/watch/{}", entry.plural),
                params: vec![PathParam::Pretty],
                operations: vec![all],
            });
        }
    }

    for sub in &entry.subresources {
        let Some((definition, sub_gvk)) = subresource_target(entry, sub) else {
            continue;
        };
        let suffix = capitalize(sub);
        let with_gvk = |mut o: Operation| {
            o.gvk = sub_gvk.clone();
            o
        };
        let ops = if matches!(sub.as_str(), "status" | "scale") {
            vec![
                with_gvk(op(
                    "get",
                    "get",
                    format!("read{gv}{scope}{kind}{suffix}"),
                    format!("read {sub} of the specified {kind}"),
                    &[],
                    Body::None,
                    OK,
                    &definition,
                    false,
                )),
                with_gvk(op(
                    "put",
                    "put",
                    format!("replace{gv}{scope}{kind}{suffix}"),
                    format!("replace {sub} of the specified {kind}"),
                    params::WRITE,
                    Body::Object(definition.clone()),
                    REPLACED,
                    &definition,
                    false,
                )),
                with_gvk(op(
                    "patch",
                    "patch",
                    format!("patch{gv}{scope}{kind}{suffix}"),
                    format!("partially update {sub} of the specified {kind}"),
                    params::PATCH,
                    Body::Patch { strategic },
                    REPLACED,
                    &definition,
                    false,
                )),
            ]
        } else {
            vec![with_gvk(op(
                "post",
                "post",
                format!("create{gv}{scope}{kind}{suffix}"),
                format!("create {sub} of a {kind}"),
                params::WRITE,
                Body::Object(definition.clone()),
                CREATED,
                &definition,
                false,
            ))]
        };
        out.push(PathItem {
            path: format!("{item}/{sub}"),
            params: item_params(),
            operations: ops,
        });
    }
    out
}

fn scoped_clone(namespaced: bool) -> Vec<PathParam> {
    if namespaced {
        vec![PathParam::Namespace, PathParam::Pretty]
    } else {
        vec![PathParam::Pretty]
    }
}
