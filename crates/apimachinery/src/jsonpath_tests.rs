//! Table tests and properties for the JSONPath subset.

use super::*;
use serde_json::json;

fn pod() -> Value {
    json!({
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web", "app.kubernetes.io/name": "x"}},
        "spec": {"replicas": 3, "containers": [
            {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "redis", "ports": [{"containerPort": 6379}, {"containerPort": 6380}]}
        ]},
        "status": {"conditions": [
            {"type": "Ready", "status": "True", "n": 1.5},
            {"type": "Scheduled", "status": "False", "n": 2.5}
        ]}
    })
}

fn eval(path: &str) -> Vec<Value> {
    evaluate(path, &pod()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn fields_indexes_and_wildcards() {
    assert_eq!(eval(".spec.replicas"), [json!(3)]);
    assert_eq!(eval("{.spec.replicas}"), [json!(3)]);
    assert_eq!(eval("spec.replicas"), [json!(3)]);
    assert_eq!(eval("$.kind"), [json!("Pod")]);
    assert_eq!(eval(".status.conditions[0].type"), [json!("Ready")]);
    assert_eq!(eval(".status.conditions[-1].type"), [json!("Scheduled")]);
    assert_eq!(eval(".metadata.labels.app"), [json!("web")]);
    assert_eq!(
        eval(".metadata.labels.app\\.kubernetes\\.io/name"),
        [json!("x")]
    );
    assert_eq!(eval(".spec.containers[*].name"), [json!("a"), json!("b")]);
    assert_eq!(
        eval(".spec.containers[*].ports[*].containerPort"),
        [json!(80), json!(6379), json!(6380)]
    );
    assert_eq!(eval(".spec.containers[0:1].image"), [json!("nginx")]);
    assert_eq!(eval(".spec.containers[1:].image"), [json!("redis")]);
    assert_eq!(eval(".spec.containers[::2].image"), [json!("nginx")]);
    assert_eq!(eval(".spec.containers[0,1].name"), [json!("a"), json!("b")]);
    assert_eq!(eval(".metadata['name','kind']"), [json!("web")]);
    assert_eq!(eval(".metadata['name']"), [json!("web")]);
    assert_eq!(eval(".metadata.*").len(), 2);
    assert_eq!(
        eval("..containerPort"),
        [json!(80), json!(6379), json!(6380)]
    );
    assert_eq!(eval(".spec.containers[0:0]"), Vec::<Value>::new());
}

#[test]
fn filters() {
    assert_eq!(
        eval(".status.conditions[?(@.type==\"Ready\")].status"),
        [json!("True")]
    );
    assert_eq!(
        eval(".status.conditions[?(@.type == 'Ready')].status"),
        [json!("True")]
    );
    assert_eq!(
        eval(".status.conditions[?(@.type!=\"Ready\")].type"),
        [json!("Scheduled")]
    );
    assert_eq!(
        eval(".spec.containers[?(@.ports[0].containerPort>100)].name"),
        [json!("b")]
    );
    assert_eq!(
        eval(".spec.containers[?(@.ports[0].containerPort<=80)].name"),
        [json!("a")]
    );
    assert_eq!(
        eval(".status.conditions[?(@.n>2.0)].type"),
        [json!("Scheduled")]
    );
    assert_eq!(
        eval(".status.conditions[?(@.missing)].type"),
        Vec::<Value>::new()
    );
    assert_eq!(eval(".spec.containers[?(@.image)].name").len(), 2);
    assert_eq!(
        eval(".status.conditions[?(@.nope==\"x\")].type"),
        Vec::<Value>::new()
    );
}

#[test]
fn missing_keys_and_errors() {
    assert_eq!(eval(".spec.nothing.deeper"), Vec::<Value>::new());
    let p = JsonPath::parse(".spec.nothing").unwrap();
    assert_eq!(
        evaluate_with(&p, &pod(), false).unwrap_err().to_string(),
        "nothing is not found"
    );
    for (path, msg) in [
        (
            ".status.conditions[5]",
            "array index out of bounds: index 5, length 2",
        ),
        (
            ".status.conditions[-3]",
            "array index out of bounds: index -1, length 2",
        ),
        (".spec.replicas[0]", "int64 is not array or slice"),
        (
            ".metadata[0]",
            "map[string]interface {} is not array or slice",
        ),
        (".spec.containers[::0]", "step must be > 0"),
        (
            ".status.conditions[?(@.n==1)].type",
            "incompatible types for comparison",
        ),
        (
            ".spec.containers[?(@.ports==1)]",
            "invalid type for comparison",
        ),
        (
            ".spec.containers[?(@.name=\"a\")]",
            "unrecognized filter operator =",
        ),
        (
            ".metadata[?(@.x)]",
            "map[labels:map[app:web app.kubernetes.io/name:x] name:web] is not array or slice and cannot be filtered",
        ),
    ] {
        assert_eq!(
            evaluate(path, &pod()).unwrap_err().to_string(),
            msg,
            "{path}"
        );
    }
    for (path, msg) in [
        (".a[0", "unterminated array"),
        (".a[x]", "invalid array index x"),
        (".a[1:2:3:4]", "invalid array index 1:2:3:4"),
        (".a[?(@.b==1", "unterminated filter"),
        (".a[?(@.b==1)", "unclosed array expect ]"),
        (".a....b", "invalid multiple recursive descent"),
        ("{|a}", "unrecognized character in action: U+007C '|'"),
        (".a range", "unrecognized identifier range"),
        ("{.a", "unclosed action"),
        (".a[?(@.b=='x)]", "unterminated filter"),
    ] {
        assert_eq!(
            JsonPath::parse(path).unwrap_err().to_string(),
            msg,
            "{path}"
        );
    }
}

#[test]
fn empty_path_is_the_object() {
    assert_eq!(evaluate("", &json!({"a": 1})).unwrap(), [json!({"a": 1})]);
    assert_eq!(evaluate("{}", &json!(1)).unwrap(), [json!(1)]);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn no_panic_on_any_path(p in "[.a-c\\[\\]*?@()=!<>'\"0-9:,$ {}-]{0,24}|\\PC{0,24}", v in arb_json()) {
            if let Ok(path) = JsonPath::parse(&p) {
                let _ = path.evaluate(&v);
                let _ = evaluate_with(&path, &v, false);
            }
        }

        #[test]
        fn field_chain_reads_back_nested_value(keys in proptest::collection::vec("[a-z]{1,6}", 1..5), leaf in any::<i64>()) {
            let mut v = Value::from(leaf);
            for k in keys.iter().rev() {
                v = serde_json::json!({ k.clone(): v });
            }
            let path = format!(".{}", keys.join("."));
            prop_assert_eq!(evaluate(&path, &v).map_err(|e| TestCaseError::fail(e.to_string()))?, vec![Value::from(leaf)]);
        }

        #[test]
        fn index_matches_slice_semantics(items in proptest::collection::vec(any::<i32>(), 1..8), i in 0usize..8) {
            let v = serde_json::json!({"a": items});
            let got = evaluate(&format!(".a[{i}]"), &v);
            if i < items.len() {
                prop_assert_eq!(got.ok(), Some(vec![Value::from(items[i])]));
            } else {
                prop_assert!(got.is_err());
            }
        }
    }
}
