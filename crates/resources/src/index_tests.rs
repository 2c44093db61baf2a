//! Tests of `ResourceIndex`: apply/delete called directly, and property-based parity of
//! its indexed listing with the reference `query::apply_for`.

use crate::filter::{FilterRegistry, Lookup, NoLookup};
use crate::index::ResourceIndex;
use crate::object;
use crate::projection::project;
use crate::query::{Query, apply_for};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn obj(ns: &str, name: &str, created: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": ns, "creationTimestamp": created,
        "uid": format!("{ns}-{name}")}})
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|o| format!("{}/{}", object::namespace(o), object::name(o)))
        .collect()
}

#[test]
fn apply_replace_and_delete() {
    let mut index = ResourceIndex::new("configmaps");
    index.apply(&obj("a", "x", "2024-01-01T00:00:00Z"));
    index.apply(&obj("b", "x", "2024-01-02T00:00:00Z"));
    let mut replaced = obj("a", "x", "2024-01-03T00:00:00Z");
    replaced["data"] = json!({"k": "secret-ish"});
    index.apply(&replaced);
    assert_eq!(index.len(), 2);
    let r = index.list(&Query::default(), None, &FilterRegistry::new(), &NoLookup);
    assert_eq!(names(&r.items), ["a/x", "b/x"]);
    assert_eq!(
        r.items[0]["data"],
        json!({"k": ""}),
        "data values are not cached"
    );
    assert!(index.delete(&obj("a", "x", "")));
    assert!(!index.delete(&obj("a", "x", "")));
    assert_eq!(index.len(), 1);
    assert_eq!(index.namespaces().collect::<Vec<_>>(), ["b"]);
    let r = index.list(&Query::default(), None, &FilterRegistry::new(), &NoLookup);
    assert_eq!(
        (r.total_items, names(&r.items)),
        (1, vec!["b/x".to_string()])
    );
    assert!(index.get("b", "x").is_some());
    assert!(index.get("a", "x").is_none());
    assert!(index.delete(&obj("b", "x", "")));
    assert_eq!(
        index.interned_strings(),
        0,
        "strings outlived their objects"
    );
}

#[test]
fn interned_strings_follow_updates() {
    let mut index = ResourceIndex::new("pods");
    let pod = |phase: &str, app: &str| {
        let mut p = obj("a", "p", "2024-01-01T00:00:00Z");
        p["metadata"]["labels"] = json!({"app": app, "tier": "web"});
        p["status"] = json!({"phase": phase});
        p
    };
    index.apply(&pod("Pending", "one"));
    index.apply(&pod("Running", "two"));
    let q = Query::parse("labelSelector=app%3Dtwo&status=Running").unwrap();
    let r = index.list(&q, None, &FilterRegistry::new(), &NoLookup);
    assert_eq!(r.total_items, 1);
    assert_eq!(r.items[0], project("pods", &pod("Running", "two")));
    let q = Query::parse("labelSelector=app%3Done").unwrap();
    assert_eq!(
        index
            .list(&q, None, &FilterRegistry::new(), &NoLookup)
            .total_items,
        0
    );
    index.delete_key("a", "p");
    assert_eq!(index.interned_strings(), 0);
}

#[test]
fn owner_index_follows_updates() {
    let mut index = ResourceIndex::new("replicasets");
    let mut rs = obj("a", "rs", "2024-01-01T00:00:00Z");
    rs["metadata"]["ownerReferences"] = json!([{"uid": "d1", "kind": "Deployment"}]);
    index.apply(&rs);
    let q = Query::parse("ownerReference=d1").unwrap();
    let list = |i: &ResourceIndex| {
        i.list(&q, None, &FilterRegistry::new(), &NoLookup)
            .total_items
    };
    assert_eq!(list(&index), 1);
    rs["metadata"]["ownerReferences"] = json!([{"uid": "d2", "kind": "Deployment"}]);
    index.apply(&rs);
    assert_eq!(list(&index), 0);
    index.delete(&rs);
    assert_eq!(index.len(), 0);
}

#[test]
fn scope_limits_namespaces_walked() {
    let mut index = ResourceIndex::new("pods");
    for ns in ["a", "b", "c"] {
        index.apply(&obj(ns, "p", "2024-01-01T00:00:00Z"));
    }
    let scope: BTreeSet<String> = ["a".to_string(), "c".to_string(), "zz".to_string()].into();
    let r = index.list(
        &Query::default(),
        Some(&scope),
        &FilterRegistry::new(),
        &NoLookup,
    );
    assert_eq!(names(&r.items), ["c/p", "a/p"]);
    let q = Query::parse("namespace=b").unwrap();
    let r = index.list(&q, Some(&scope), &FilterRegistry::new(), &NoLookup);
    assert_eq!(r.total_items, 0);
}

#[test]
fn registered_filters_apply() {
    let mut index = ResourceIndex::new("users");
    index.apply(&obj("", "admin", "2024-01-01T00:00:00Z"));
    index.apply(&obj("", "bob", "2024-01-01T00:00:00Z"));
    let registry = FilterRegistry::new();
    registry.register(
        "users",
        "globalrole",
        Arc::new(|o: &Value, v: &str, _: &dyn Lookup| {
            v == "platform-admin" && object::name(o) == "admin"
        }),
    );
    let q = Query::parse("globalrole=platform-admin").unwrap();
    let r = index.list(&q, None, &registry, &NoLookup);
    assert_eq!(names(&r.items), ["/admin"]);
}

fn arb_object() -> impl Strategy<Value = Value> {
    (
        0..4usize,
        prop::sample::select(vec!["a", "b", "ab", "ba", "web-1", "web-2", "c"]),
        0..3i64,
        prop::option::of(prop::sample::select(vec!["web", "db"])),
        prop::option::of(prop::sample::select(vec!["Shop", "ab"])),
        prop::option::of(prop::sample::select(vec!["o1", "o2"])),
        (0..3i64, 0..3i64),
        prop::option::of(0..4i64),
    )
        .prop_map(
            |(ns, name, created, app, alias, owner, (replicas, ready), updated)| {
                let mut o = obj(
                    &format!("ns{ns}"),
                    name,
                    &format!("2024-01-0{}T00:00:00Z", created + 1),
                );
                if let Some(app) = app {
                    o["metadata"]["labels"] = json!({"app": app});
                }
                if let Some(alias) = alias {
                    o["metadata"]["annotations"] = json!({"kubesphere.io/alias-name": alias});
                }
                if let Some(owner) = owner {
                    o["metadata"]["ownerReferences"] =
                        json!([{"uid": owner, "kind": "ReplicaSet"}]);
                }
                o["status"] = json!({"replicas": replicas, "readyReplicas": ready});
                if let Some(u) = updated {
                    o["status"]["conditions"] =
                        json!([{"lastUpdateTime": format!("2024-02-0{}T00:00:00Z", u + 1)}]);
                }
                o
            },
        )
}

fn arb_query() -> impl Strategy<Value = Vec<(String, String)>> {
    let opt = |values: Vec<&'static str>| prop::option::of(prop::sample::select(values));
    (
        opt(vec!["1", "2", "3", "99999999999999999"]),
        opt(vec!["-1", "0", "1", "2", "5"]),
        opt(vec![
            "name",
            "createTime",
            "creationTimestamp",
            "updateTime",
        ]),
        opt(vec!["true", "false", "1"]),
        opt(vec!["app=web", "app!=db", "app", "!app"]),
        opt(vec!["a", "b", "Sh", "web", ""]),
        opt(vec!["a,ba", "c"]),
        opt(vec!["ns1", "ns2"]),
        opt(vec!["running", "stopped", "updating"]),
        opt(vec!["o1", "o2"]),
        (
            opt(vec!["app=web", "app in (web,db)", "bad("]),
            opt(vec!["bar"]),
            opt(vec!["metadata.name=a", "metadata.name!=ab"]),
        ),
    )
        .prop_map(
            |(
                page,
                limit,
                sort,
                asc,
                sel,
                name,
                names,
                ns,
                status,
                owner,
                (label, unknown, fs),
            )| {
                let mut pairs = Vec::new();
                let mut push = |k: &str, v: Option<&str>| {
                    if let Some(v) = v {
                        pairs.push((k.to_string(), v.to_string()));
                    }
                };
                push("page", page);
                push("limit", limit);
                push("sortBy", sort);
                push("ascending", asc);
                push("labelSelector", sel);
                push("name", name);
                push("names", names);
                push("namespace", ns);
                push("status", status);
                push("ownerReference", owner);
                push("label", label);
                push("foo", unknown);
                push("fieldSelector", fs);
                pairs
            },
        )
}

fn arb_scope() -> impl Strategy<Value = Option<BTreeSet<String>>> {
    prop::option::of(prop::collection::btree_set(
        prop::sample::select(vec![
            "ns0".to_string(),
            "ns2".to_string(),
            "ns3".to_string(),
        ]),
        0..3,
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn indexed_listing_matches_reference(
        objects in prop::collection::vec(arb_object(), 0..40),
        pairs in arb_query(),
        scope in arb_scope(),
        resource in prop::sample::select(vec!["deployments", "configmaps", "replicasets"]),
        deletions in prop::collection::vec(0..40usize, 0..5),
    ) {
        let query = Query::from_pairs(&pairs).unwrap();
        let mut index = ResourceIndex::new(resource);
        let mut model: BTreeMap<(String, String), Value> = BTreeMap::new();
        for o in &objects {
            index.apply(o);
            model.insert((object::namespace(o).into(), object::name(o).into()), project(resource, o));
        }
        for d in deletions {
            if let Some(o) = objects.get(d) {
                index.delete(o);
                model.remove(&(object::namespace(o).to_string(), object::name(o).to_string()));
            }
        }
        prop_assert_eq!(index.len(), model.len());
        let visible: Vec<Value> = model
            .into_values()
            .filter(|o| scope.as_ref().is_none_or(|s| s.contains(object::namespace(o))))
            .collect();
        let registry = FilterRegistry::new();
        let expected = apply_for(resource, &query, visible, &registry, &NoLookup);
        let got = index.list(&query, scope.as_ref(), &registry, &NoLookup);
        prop_assert_eq!(got.total_items, expected.total_items);
        prop_assert_eq!(names(&got.items), names(&expected.items));
        prop_assert_eq!(got.items, expected.items);
    }
}
