//! Labels and annotations, label selectors with every operator, and field selectors.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use std::collections::BTreeSet;

use e2e::{Namespace, expect_err_contains, expect_ok};

fn names(ns: &Namespace, args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "name"]);
    let out = ns.kubectl(&all);
    expect_ok(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.rsplit('/').next().unwrap_or(l).to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn label_add_overwrite_and_remove() {
    let ns = Namespace::new("label");
    expect_ok(&ns.create_configmap("x", &[]));
    let out = ns.kubectl(&["label", "configmap", "x", "env=prod", "tier=web"]);
    assert_eq!(expect_ok(&out).trim(), "configmap/x labeled");
    let labels =
        ns.kubectl(&["get", "configmap", "x", "-o", "json"]).json()["metadata"]["labels"].clone();
    assert_eq!(labels, serde_json::json!({"env": "prod", "tier": "web"}));

    let out = ns.kubectl(&["label", "configmap", "x", "env=dev"]);
    expect_err_contains(
        &out,
        "'env' already has a value (prod), and --overwrite is false",
    );
    let out = ns.kubectl(&["label", "configmap", "x", "env=dev", "--overwrite"]);
    expect_ok(&out);
    let out = ns.kubectl(&["label", "configmap", "x", "tier-"]);
    assert_eq!(expect_ok(&out).trim(), "configmap/x unlabeled");
    let labels =
        ns.kubectl(&["get", "configmap", "x", "-o", "json"]).json()["metadata"]["labels"].clone();
    assert_eq!(labels, serde_json::json!({"env": "dev"}));
}

#[test]
fn annotate_add_overwrite_and_remove() {
    let ns = Namespace::new("annotate");
    expect_ok(&ns.create_configmap("x", &[]));
    let out = ns.kubectl(&["annotate", "configmap", "x", "note=first"]);
    assert_eq!(expect_ok(&out).trim(), "configmap/x annotated");
    let out = ns.kubectl(&["annotate", "configmap", "x", "note=second"]);
    expect_err_contains(&out, "--overwrite is false");
    expect_ok(&ns.kubectl(&["annotate", "configmap", "x", "note=second", "--overwrite"]));
    let out = ns.kubectl(&[
        "get",
        "configmap",
        "x",
        "-o",
        "jsonpath={.metadata.annotations.note}",
    ]);
    assert_eq!(expect_ok(&out), "second");
    expect_ok(&ns.kubectl(&["annotate", "configmap", "x", "note-"]));
    let obj = ns.kubectl(&["get", "configmap", "x", "-o", "json"]).json();
    assert!(
        obj["metadata"]["annotations"].get("note").is_none(),
        "{obj}"
    );
}

#[test]
fn label_selectors_support_every_operator() {
    let ns = Namespace::new("selector");
    for (name, labels) in [
        ("a", "env=prod,tier=web"),
        ("b", "env=dev,tier=db"),
        ("c", "env=prod"),
        ("d", ""),
    ] {
        expect_ok(&ns.create_configmap(name, &[]));
        for label in labels.split(',').filter(|l| !l.is_empty()) {
            expect_ok(&ns.kubectl(&["label", "configmap", name, label]));
        }
    }
    // kube-root-ca.crt (published into every namespace on a live cluster) has no labels,
    // so the selectors that match unlabelled objects are checked against that set too.
    let unlabelled: BTreeSet<String> = names(&ns, &["configmaps", "-l", "!env"]);
    assert!(unlabelled.contains("d"));
    let with_unlabelled = |base: &[&str]| {
        let mut s = set(base);
        s.extend(unlabelled.iter().cloned());
        s
    };
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        ("env=prod", set(&["a", "c"])),
        ("env==prod", set(&["a", "c"])),
        ("env!=prod", with_unlabelled(&["b"])),
        ("env in (prod,dev)", set(&["a", "b", "c"])),
        ("env notin (prod)", with_unlabelled(&["b"])),
        ("tier", set(&["a", "b"])),
        ("!tier", with_unlabelled(&["c"])),
        ("env=prod,tier", set(&["a"])),
        ("env in (prod),tier notin (web)", set(&["c"])),
    ];
    for (selector, want) in cases {
        let got = names(&ns, &["configmaps", "-l", selector]);
        assert_eq!(got, want, "selector {selector:?}");
    }
    let out = ns.kubectl(&["get", "configmaps", "-l", "env in prod"]);
    assert!(
        !out.success(),
        "an invalid selector must be refused:\n{out}"
    );
}

#[test]
fn field_selectors_on_name_namespace_phase_and_type() {
    let ns = Namespace::new("fieldsel");
    ns.ensure_default_service_account();
    for name in ["one", "two"] {
        expect_ok(&ns.create_configmap(name, &[]));
    }
    assert_eq!(
        names(
            &ns,
            &["configmaps", "--field-selector", "metadata.name=one"]
        ),
        set(&["one"])
    );
    assert!(
        !names(
            &ns,
            &["configmaps", "--field-selector", "metadata.name!=one"]
        )
        .contains("one")
    );
    let out = e2e::kubectl(&[
        "get",
        "configmaps",
        "-A",
        "--field-selector",
        &format!("metadata.namespace={}", ns.name()),
        "-o",
        "jsonpath={range .items[*]}{.metadata.namespace}{\"\\n\"}{end}",
    ]);
    let namespaces: BTreeSet<&str> = expect_ok(&out).lines().collect();
    assert_eq!(namespaces, [ns.name()].into_iter().collect());

    ns.create(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: held}\nspec:\n  nodeSelector: {e2e.example.com/never: \"true\"}\n  containers: [{name: c, image: \"busybox:1.36\"}]\n",
    );
    assert_eq!(
        names(&ns, &["pods", "--field-selector", "status.phase=Pending"]),
        set(&["held"])
    );
    assert_eq!(
        names(&ns, &["pods", "--field-selector", "status.phase=Running"]),
        set(&[])
    );

    ns.create("apiVersion: v1\nkind: Secret\nmetadata: {name: opaque}\nstringData: {a: b}\n");
    ns.create(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: custom}\ntype: example.com/custom\nstringData: {a: b}\n",
    );
    assert_eq!(
        names(
            &ns,
            &["secrets", "--field-selector", "type=example.com/custom"]
        ),
        set(&["custom"])
    );
    assert!(names(&ns, &["secrets", "--field-selector", "type=Opaque"]).contains("opaque"));
    assert!(!names(&ns, &["secrets", "--field-selector", "type=Opaque"]).contains("custom"));
}

#[test]
fn unsupported_field_selector_is_refused() {
    let ns = Namespace::new("fieldsel-bad");
    let out = ns.kubectl(&["get", "configmaps", "--field-selector", "data.key=x"]);
    expect_err_contains(&out, "field label not supported: data.key");
    assert!(out.stderr.contains("BadRequest"), "{out}");
}
