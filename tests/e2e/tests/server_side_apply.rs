//! `kubectl apply --server-side`: creation, idempotence, ownership recorded in
//! managedFields, conflicts with another manager, and `--force-conflicts`.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use e2e::{Namespace, at, expect_err_contains, expect_ok};
use serde_json::Value;

fn deployment(replicas: u32, image: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  paused: true
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: "{image}"
        ports: [{{containerPort: 80}}]
"#
    )
}

fn managers(ns: &Namespace) -> Vec<(String, String)> {
    let out = ns.kubectl(&[
        "get",
        "deploy",
        "web",
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    expect_ok(&out);
    let v: Value = out.json();
    at(&v, "/metadata/managedFields")
        .as_array()
        .map(|a| {
            a.iter()
                // The Deployment controller's own writes (status, revision annotation),
                // present on any cluster that runs controllers, are not this test's subject.
                .filter(|m| {
                    m["subresource"].as_str() != Some("status")
                        && m["manager"] != "kube-controller-manager"
                })
                .map(|m| {
                    (
                        m["manager"].as_str().unwrap_or_default().to_owned(),
                        m["operation"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The Deployment controller's writes are attributed to it by name, as on a cluster
/// (the API server derives the manager from the User-Agent when no fieldManager is given).
#[test]
fn controller_writes_carry_the_controller_manager_name() {
    let ns = Namespace::new("ssa-mgr");
    expect_ok(&ns.kubectl_stdin(&["apply", "-f", "-"], &deployment(1, "nginx:1.27")));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = ns.kubectl(&[
            "get",
            "deploy",
            "web",
            "-o",
            "json",
            "--show-managed-fields",
        ]);
        let v: Value = out.json();
        let entries = at(&v, "/metadata/managedFields")
            .as_array()
            .cloned()
            .unwrap_or_default();
        let by_controller = entries.iter().any(|m| {
            m["manager"] == "kube-controller-manager"
                && m["operation"] == "Update"
                && m["subresource"] == "status"
        });
        assert!(
            entries.iter().all(|m| m["manager"] != "unknown"),
            "a write without a named manager: {entries:#?}"
        );
        if by_controller {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no status write by kube-controller-manager after 60 s: {entries:#?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

#[test]
fn server_side_apply_round_trip_conflict_and_force() {
    let ns = Namespace::new("ssa");
    let out = ns.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &deployment(1, "nginx:1.27"),
    );
    expect_ok(&out);
    assert!(out.stdout.contains("serverside-applied"), "{out}");
    let rv = |ns: &Namespace| {
        let out = ns.kubectl(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.generation}",
        ]);
        expect_ok(&out).to_owned()
    };
    let before = rv(&ns);
    expect_ok(&ns.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &deployment(1, "nginx:1.27"),
    ));
    assert_eq!(
        rv(&ns),
        before,
        "re-applying the same configuration changes nothing"
    );
    assert_eq!(
        managers(&ns),
        vec![("kubectl".to_owned(), "Apply".to_owned())]
    );

    // Another manager that sets a field kubectl owns to another value conflicts.
    let out = ns.kubectl_stdin(
        &["apply", "--server-side", "--field-manager=other", "-f", "-"],
        &deployment(3, "nginx:1.27"),
    );
    expect_err_contains(&out, "conflict with \"kubectl\"");
    expect_err_contains(&out, ".spec.replicas");
    let out = ns.kubectl(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]);
    assert_eq!(expect_ok(&out), "1", "a refused apply changes nothing");

    // Forcing takes the field over.
    expect_ok(&ns.kubectl_stdin(
        &[
            "apply",
            "--server-side",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            "-",
        ],
        &deployment(3, "nginx:1.27"),
    ));
    let out = ns.kubectl(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]);
    assert_eq!(expect_ok(&out), "3");
    let m = managers(&ns);
    assert!(
        m.contains(&("other".to_owned(), "Apply".to_owned())),
        "{m:?}"
    );

    // An imperative change is recorded as an Update by its manager.
    expect_ok(&ns.kubectl(&["label", "deploy", "web", "tier=front"]));
    let m = managers(&ns);
    assert!(m.iter().any(|(_, op)| op == "Update"), "{m:?}");
}
