//! Strategic merge patch against cases whose expected outputs come from kubectl's Go implementation.
#![allow(clippy::unwrap_used)]
// The expected outputs in smp_cases.json were produced by
// `kubectl patch --local --type strategic -o json` (kubectl 1.32).

use serde_json::Value;

struct Case {
    name: String,
    definition: String,
    original: Value,
    patch: Value,
    /// `None` when the Go implementation rejects the patch.
    expected: Option<Value>,
}

fn cases() -> Vec<Case> {
    let all: Vec<Value> = serde_json::from_str(include_str!("smp_cases.json")).unwrap();
    all.into_iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_owned(),
            definition: c["definition"].as_str().unwrap().to_owned(),
            original: c["original"].clone(),
            patch: c["patch"].clone(),
            expected: (!c["expected"].is_null()).then(|| c["expected"].clone()),
        })
        .collect()
}

#[test]
fn every_case_matches_the_go_implementation() {
    let cases = cases();
    assert!(cases.len() >= 40, "the table lost cases");
    let mut failures = Vec::new();
    for c in &cases {
        let got = patch::strategic_merge_patch(&c.original, &c.patch, &c.definition);
        match (&c.expected, got) {
            (Some(want), Ok(got)) if *want == got => {}
            (None, Err(_)) => {}
            (want, got) => failures.push(format!(
                "{}:\n  want {}\n  got  {:?}",
                c.name,
                want.as_ref()
                    .map_or("an error".to_owned(), Value::to_string),
                got.map(|v| v.to_string())
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs the real Go implementation (kubectl) on every case when kubectl is installed, so the
/// table above cannot drift from it.
#[test]
fn cases_agree_with_kubectl_when_installed() {
    let kubectl = std::path::Path::new("/usr/bin/kubectl");
    if !kubectl.exists() {
        eprintln!("skipping: /usr/bin/kubectl is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("smp-kubectl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (i, c) in cases().iter().enumerate() {
        let file = dir.join(format!("obj-{i}.json"));
        std::fs::write(&file, c.original.to_string()).unwrap();
        let out = std::process::Command::new(kubectl)
            .args([
                "patch",
                "--local",
                "--type",
                "strategic",
                "-o",
                "json",
                "-f",
            ])
            .arg(&file)
            .arg("-p")
            .arg(c.patch.to_string())
            .output()
            .unwrap();
        let theirs: Option<Value> = out
            .status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap());
        let ours = patch::strategic_merge_patch(&c.original, &c.patch, &c.definition).ok();
        if theirs != ours {
            failures.push(format!("{}: kubectl {theirs:?}, ours {ours:?}", c.name));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn errors_carry_kube_apiserver_status_codes() {
    use serde_json::json;
    let pod = json!({"metadata": {"name": "p", "finalizers": ["a"]}, "spec": {"containers": [{"name": "a"}]}});
    let err = patch::strategic_merge_patch(
        &pod,
        &json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}}),
        "io.k8s.api.core.v1.Pod",
    )
    .unwrap_err();
    assert_eq!(err.http_status(), 400);
    let err =
        patch::strategic_merge_patch(&pod, &json!({"spec": {"x": 1}}), "com.example.v1.Widget")
            .unwrap_err();
    assert!(matches!(err, patch::PatchError::UnsupportedType(_)));
    assert_eq!(err.http_status(), 415);
    let err =
        patch::strategic_merge_patch(&pod, &json!([1]), "io.k8s.api.core.v1.Pod").unwrap_err();
    assert_eq!(err.http_status(), 400);
}
