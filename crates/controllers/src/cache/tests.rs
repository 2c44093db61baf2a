//! The cache's index upkeep, relists and readiness, without a server.

use super::*;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::json;

fn pod(ns: &str, name: &str, controller: Option<&str>) -> Pod {
    let refs: Vec<_> = controller
        .map(|uid| {
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                   "uid": uid, "controller": true})
        })
        .into_iter()
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns, "ownerReferences": refs},
    }))
    .unwrap()
}

fn names<K: Resource>(objs: &[Arc<K>]) -> Vec<String> {
    let mut v: Vec<String> = objs
        .iter()
        .map(|o| o.meta().name.clone().unwrap_or_default())
        .collect();
    v.sort();
    v
}

/// Both kinds of cache fed the same events, so every read is checked against the
/// scan that the unindexed cache does.
fn pair() -> (Writer<Pod>, Writer<Pod>) {
    (
        Writer::new(Indexes::Controller),
        Writer::new(Indexes::Namespace),
    )
}

fn apply_both(w: &mut (Writer<Pod>, Writer<Pod>), ev: impl Fn() -> Event<Pod>) {
    w.0.apply(ev());
    w.1.apply(ev());
}

fn check(w: &(Writer<Pod>, Writer<Pod>), ns: &str, uid: &str) -> (Vec<String>, Vec<String>) {
    let (ix, scan) = (w.0.cache(), w.1.cache());
    let owned = names(&ix.controlled_by(ns, uid));
    let orphans = names(&ix.orphans_in(ns));
    assert_eq!(owned, names(&scan.controlled_by(ns, uid)));
    assert_eq!(orphans, names(&scan.orphans_in(ns)));
    assert_eq!(names(&ix.in_namespace(ns)), names(&scan.in_namespace(ns)));
    (owned, orphans)
}

#[test]
fn indexes_follow_adoption_release_and_delete() {
    let mut w = pair();
    apply_both(&mut w, || Event::Apply(pod("ns", "a", None)));
    apply_both(&mut w, || Event::Apply(pod("ns", "b", Some("u1"))));
    apply_both(&mut w, || Event::Apply(pod("other", "c", Some("u1"))));
    assert_eq!(check(&w, "ns", "u1"), (vec!["b".into()], vec!["a".into()]));
    assert_eq!(check(&w, "other", "u1"), (vec!["c".into()], vec![]));

    // Adoption: the orphan entry must go, not linger beside the owned one.
    apply_both(&mut w, || Event::Apply(pod("ns", "a", Some("u1"))));
    assert_eq!(
        check(&w, "ns", "u1"),
        (vec!["a".into(), "b".into()], vec![])
    );
    // Moving to another controller leaves nothing under the first.
    apply_both(&mut w, || Event::Apply(pod("ns", "b", Some("u2"))));
    assert_eq!(check(&w, "ns", "u1"), (vec!["a".into()], vec![]));
    assert_eq!(check(&w, "ns", "u2"), (vec!["b".into()], vec![]));
    // Release.
    apply_both(&mut w, || Event::Apply(pod("ns", "a", None)));
    assert_eq!(check(&w, "ns", "u1"), (vec![], vec!["a".into()]));
    assert_eq!(w.0.cache().claimable_by("ns", "u2").len(), 2);

    apply_both(&mut w, || Event::Delete(pod("ns", "a", None)));
    apply_both(&mut w, || Event::Delete(pod("ns", "b", Some("u2"))));
    apply_both(&mut w, || Event::Delete(pod("ns", "missing", None)));
    assert_eq!(check(&w, "ns", "u2"), (vec![], vec![]));
    assert_eq!(w.0.cache().len(), 1);
    let state = w.0.cache.read();
    let ix = state.controller.as_ref().unwrap();
    assert!(ix.orphans.is_empty(), "empty orphan sets are dropped");
    assert_eq!(ix.owned.keys().map(|k| &**k).collect::<Vec<_>>(), ["u1"]);
    assert!(!state.by_namespace.contains_key("ns"));
}

#[test]
fn objects_are_held_once_and_found_by_name() {
    let mut w = Writer::new(Indexes::Controller);
    w.apply(Event::Apply(pod("ns", "a", Some("u1"))));
    let c = w.cache();
    let by_name = c.find("ns", "a").unwrap();
    let by_ref = c.get(&ObjectRef::new("a").within("ns")).unwrap();
    let by_owner = c.controlled_by("ns", "u1").pop().unwrap();
    assert!(Arc::ptr_eq(&by_name, &by_ref) && Arc::ptr_eq(&by_name, &by_owner));
    assert!(c.find("other", "a").is_none());
    assert!(c.get(&ObjectRef::new("a")).is_none());

    let mut nodes = Writer::<Node>::new(Indexes::Namespace);
    nodes.apply(Event::Apply(
        serde_json::from_value(json!({"metadata": {"name": "n1"}})).unwrap(),
    ));
    assert!(nodes.cache().get(&ObjectRef::new("n1")).is_some());
    assert_eq!(nodes.cache().state().len(), 1);
    assert_eq!(
        c.state_filter(|p| p.metadata.name.as_deref() == Some("a"))
            .len(),
        1
    );
}

#[tokio::test]
async fn relist_swaps_everything_at_init_done() {
    let mut w = pair();
    apply_both(&mut w, || Event::Init);
    apply_both(&mut w, || Event::InitApply(pod("ns", "a", None)));
    assert!(w.0.cache().is_empty(), "half a list is never visible");
    let Change::Relisted { current, gone } = w.0.apply(Event::InitDone) else {
        panic!("InitDone must report a relist");
    };
    w.1.apply(Event::InitDone);
    assert_eq!((names(&current), gone.len()), (vec!["a".to_string()], 0));
    w.0.cache().wait_until_ready().await.unwrap();

    apply_both(&mut w, || Event::Apply(pod("ns", "b", Some("u1"))));
    // The watch restarts: "a" was adopted and "b" deleted meanwhile.
    apply_both(&mut w, || Event::Init);
    apply_both(&mut w, || Event::InitApply(pod("ns", "a", Some("u1"))));
    apply_both(&mut w, || Event::InitApply(pod("ns", "c", None)));
    assert_eq!(check(&w, "ns", "u1"), (vec!["b".into()], vec!["a".into()]));
    let Change::Relisted { current, gone } = w.0.apply(Event::InitDone) else {
        panic!("InitDone must report a relist");
    };
    w.1.apply(Event::InitDone);
    assert_eq!(names(&current), ["a", "c"]);
    assert_eq!(names(&gone), ["b"]);
    assert_eq!(check(&w, "ns", "u1"), (vec!["a".into()], vec!["c".into()]));
    assert_eq!(w.0.cache().len(), 2);
}

#[test]
fn managed_fields_are_not_cached() {
    let with_fields = || {
        let mut p = pod("ns", "a", None);
        p.metadata.managed_fields = Some(vec![Default::default()]);
        p
    };
    let stripped = |w: &Writer<Pod>| {
        w.cache()
            .find("ns", "a")
            .unwrap()
            .metadata
            .managed_fields
            .is_none()
    };
    let mut w = Writer::new(Indexes::Namespace);
    w.apply(Event::Apply(with_fields()));
    assert!(stripped(&w), "on a watch event");
    w.apply(Event::Init);
    w.apply(Event::InitApply(with_fields()));
    w.apply(Event::InitDone);
    assert!(stripped(&w), "on a relist");
}

#[tokio::test]
async fn readiness_fails_when_the_writer_goes_away() {
    let w = Writer::<Pod>::new(Indexes::Namespace);
    let c = w.cache();
    drop(w);
    assert!(c.wait_until_ready().await.is_err());
}
