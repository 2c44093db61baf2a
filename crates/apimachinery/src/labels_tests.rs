//! Table tests and properties for label selectors.

use super::*;
use serde_json::json;

fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn good_strings_render_back_without_spaces() {
    for s in [
        "x=a,y=b,z=c",
        "",
        "x!=a,y=b",
        "x=",
        "x= ",
        "x=,z= ",
        "x= ,z= ",
        "!x",
        "x>1",
        "x>1,z<5",
        "x==a",
        "x in (a,b)",
        "x notin (a)",
        "example.com/app",
    ] {
        let sel = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let want = if s.contains(" in ") || s.contains(" notin ") {
            s.to_string()
        } else {
            s.replace(' ', "")
        };
        assert_eq!(sel.to_string(), want, "{s}");
    }
}

#[test]
fn canonical_form_sorts_keys_and_values() {
    let sel = parse(" z in ( c , a,b ),a!=1,  !b").unwrap();
    assert_eq!(sel.to_string(), "a!=1,!b,z in (a,b,c)");
    assert_eq!(
        parse("x=a,a=x").unwrap().to_string(),
        parse("a=x,x=a").unwrap().to_string()
    );
    assert_eq!(parse("x in (a,a)").unwrap().to_string(), "x in (a)");
    assert_eq!(parse("x in (,a)").unwrap().to_string(), "x in (,a)");
    assert_eq!(parse("x in ()").unwrap().requirements()[0].values(), [""]);
    assert_eq!(
        parse("x in (a,,b)").unwrap().requirements()[0].values(),
        ["", "a", "b"]
    );
    // `in` and `notin` are identifiers where a key or value is expected.
    let s = parse("notin=in").unwrap();
    assert_eq!(s.requirements()[0].key(), "notin");
    assert_eq!(s.requirements()[0].values(), ["in"]);
}

#[test]
fn bad_strings_give_kubernetes_messages() {
    let cases = [
        (
            "x=a||y=b",
            "unable to parse requirement: <nil>: Invalid value: \"a||y\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        (
            "x<a",
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        (
            "x y",
            "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt",
        ),
        (
            "x in a",
            "unable to parse requirement: found 'a' expected: '('",
        ),
        (
            "x in (a",
            "unable to parse requirement: found '', expected: ',' or ')'",
        ),
        ("x,", "found '', expected: identifier after ','"),
        (
            ",x",
            "found ',', expected: !, identifier, or 'end of string'",
        ),
        (
            "!",
            "unable to parse requirement: found '', expected: identifier",
        ),
        (
            "a_",
            "unable to parse requirement: <nil>: Invalid value: \"a_\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
        (
            "x in (a b)",
            "unable to parse requirement: found 'b', expected: ',' or ')'",
        ),
        (
            "x=(",
            "unable to parse requirement: found '(', expected: identifier",
        ),
    ];
    for (s, want) in cases {
        let got = parse(s).expect_err(s).to_string();
        assert_eq!(
            got,
            want.replace(
                "<nil>: Invalid value: \"a||y\"",
                "values[0][x]: Invalid value: \"a||y\""
            ),
            "{s}"
        );
    }
}

#[test]
fn matching_follows_kubernetes() {
    let yes = [
        ("", set(&[("x", "y")])),
        ("x=y", set(&[("x", "y")])),
        ("x=y,z=w", set(&[("x", "y"), ("z", "w")])),
        ("x!=y,z!=w", set(&[("x", "z"), ("z", "a")])),
        ("notin=in", set(&[("notin", "in")])),
        ("x", set(&[("x", "z")])),
        ("!x", set(&[("y", "z")])),
        ("x>1", set(&[("x", "2")])),
        ("x<1", set(&[("x", "0")])),
        ("x<1", set(&[("x", "-5")])),
        ("x!=y", set(&[])),
        ("x notin (a)", set(&[])),
        ("x in (a,b)", set(&[("x", "b")])),
        ("x=", set(&[("x", "")])),
    ];
    for (s, labels) in yes {
        assert!(parse(s).unwrap().matches(&labels), "{s} {labels:?}");
    }
    let no = [
        ("x=z", set(&[])),
        ("x=y", set(&[("x", "z")])),
        ("x=y,z=w", set(&[("x", "w"), ("z", "w")])),
        ("x!=y,z!=w", set(&[("x", "z"), ("z", "w")])),
        ("x", set(&[("y", "z")])),
        ("!x", set(&[("x", "z")])),
        ("x>1", set(&[("x", "0")])),
        ("x<1", set(&[("x", "2")])),
        ("x>1", set(&[("x", "two")])),
        ("x>1", set(&[])),
        ("x in (a,b)", set(&[("x", "c")])),
        ("x notin (a,b)", set(&[("x", "a")])),
        ("x=", set(&[])),
    ];
    for (s, labels) in no {
        assert!(!parse(s).unwrap().matches(&labels), "{s} {labels:?}");
    }
}

#[test]
fn matches_json_labels_and_objects() {
    let sel = parse("app=web,tier").unwrap();
    let obj = json!({"metadata": {"labels": {"app": "web", "tier": "fe"}}});
    assert!(sel.matches_object(&obj));
    assert!(sel.matches(obj["metadata"]["labels"].as_object().unwrap()));
    assert!(!sel.matches_object(&json!({"metadata": {}})));
    assert!(
        parse("!app")
            .unwrap()
            .matches_object(&json!({"metadata": {}}))
    );
    assert!(Selector::everything().matches_object(&json!({})));
    assert!(!Selector::nothing().matches_object(&json!({})));
    assert!(Selector::everything().is_empty());
    assert!(!Selector::nothing().is_empty());
}

#[test]
fn exact_match_hint() {
    let sel = parse("a=1,b in (x),c in (x,y),d!=1").unwrap();
    assert_eq!(sel.requires_exact_match("a"), Some("1"));
    assert_eq!(sel.requires_exact_match("b"), Some("x"));
    assert_eq!(sel.requires_exact_match("c"), None);
    assert_eq!(sel.requires_exact_match("d"), None);
    assert_eq!(sel.requires_exact_match("z"), None);
}

#[test]
fn from_set_renders_sorted() {
    let s = Selector::from_set(&set(&[("b", "2"), ("a", "1")]));
    assert_eq!(s.to_string(), "a=1,b=2");
}

#[test]
fn label_selector_objects() {
    assert!(
        Selector::from_label_selector(&Value::Null)
            .unwrap()
            .is_nothing()
    );
    assert!(
        Selector::from_label_selector(&json!({}))
            .unwrap()
            .is_empty()
    );
    let s = Selector::from_label_selector(&json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists"}
        ]
    }))
    .unwrap();
    assert_eq!(
        s.to_string(),
        "app=web,!canary,env notin (prod),tier in (be,fe),zone"
    );
    assert!(s.matches(&set(&[("app", "web"), ("tier", "fe"), ("zone", "a")])));
    assert!(!s.matches(&set(&[("app", "web"), ("tier", "fe")])));

    let e = Selector::from_label_selector(&json!({
        "matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]
    }))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"Gt\" is not a valid label selector operator"
    );
    let e = Selector::from_label_selector(&json!({
        "matchExpressions": [{"key": "a", "operator": "In"}]
    }))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
    );
    let e = Selector::from_label_selector(&json!({
        "matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]
    }))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"
    );
    let e = Selector::from_label_selector(&json!({"matchLabels": {"a/b/c": "x"}})).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("key: Invalid value: \"a/b/c\": a valid label key")
    );
    let e = Selector::from_label_selector(&json!({"matchLabels": {"a": "-x"}})).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("values[0][a]: Invalid value: \"-x\": a valid label")
    );
    assert!(matches!(
        Selector::from_label_selector(&json!({"matchLabels": ["a"]})),
        Err(SelectorError::Malformed(_))
    ));
}

#[test]
fn validates_label_selector_like_workloads() {
    let p = Path::new("spec").child("selector");
    let errs = validate_label_selector(
        &json!({
            "matchLabels": {"app": "-bad"},
            "matchExpressions": [
                {"key": "a", "operator": "In"},
                {"key": "b", "operator": "Exists", "values": ["x"]},
                {"key": "c", "operator": "Gt", "values": ["1"]}
            ]
        }),
        &p,
    );
    let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(msgs.len(), 4, "{msgs:?}");
    assert!(
        msgs[0].starts_with("spec.selector.matchLabels: Invalid value: \"-bad\": a valid label")
    );
    assert_eq!(
        msgs[1],
        "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
    );
    assert_eq!(
        msgs[2],
        "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
    );
    assert_eq!(
        msgs[3],
        "spec.selector.matchExpressions[2].operator: Invalid value: \"Gt\": not a valid selector operator"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9]([-a-z0-9_.]{0,10}[a-z0-9])?",
            "[a-z]{1,5}\\.[a-z]{2,3}/[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?",
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        "([A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?)?"
    }

    fn requirement() -> impl Strategy<Value = Requirement> {
        let op = prop_oneof![
            Just(Operator::Equals),
            Just(Operator::DoubleEquals),
            Just(Operator::NotEquals),
            Just(Operator::In),
            Just(Operator::NotIn),
            Just(Operator::Exists),
            Just(Operator::DoesNotExist),
            Just(Operator::GreaterThan),
            Just(Operator::LessThan),
        ];
        (
            key(),
            op,
            proptest::collection::btree_set(value(), 1..4),
            0i64..1000,
        )
            .prop_map(|(key, operator, vals, n)| {
                let values = match operator {
                    Operator::In | Operator::NotIn => vals.into_iter().collect(),
                    Operator::Exists | Operator::DoesNotExist => Vec::new(),
                    Operator::GreaterThan | Operator::LessThan => vec![n.to_string()],
                    _ => vals.into_iter().take(1).collect(),
                };
                Requirement {
                    key,
                    operator,
                    values,
                }
            })
    }

    proptest! {
        #[test]
        fn parse_render_round_trip(reqs in proptest::collection::vec(requirement(), 0..5)) {
            let sel = Selector::from_requirements(reqs);
            let text = sel.to_string();
            let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(&back, &sel, "{}", text);
            prop_assert_eq!(back.to_string(), text);
        }

        #[test]
        fn no_panic_and_stable_rendering(s in "[a-z =!<>(),\\t0-9./_-]{0,40}|\\PC{0,40}") {
            if let Ok(sel) = parse(&s) {
                let text = sel.to_string();
                let again = parse(&text).map_err(|e| TestCaseError::fail(format!("{s:?} -> {text:?}: {e}")))?;
                prop_assert_eq!(again.to_string(), text);
            }
        }
    }
}
