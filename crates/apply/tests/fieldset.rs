//! Path element encodings and field set algebra.
#![allow(clippy::unwrap_used)] // Tests fail loudly on unexpected errors.

use apply::{Deduced, FieldSet, ListType, PathElement, path_string};
use serde_json::json;

fn f(name: &str) -> PathElement {
    PathElement::Field(name.into())
}

fn set(paths: &[&[PathElement]]) -> FieldSet {
    let mut s = FieldSet::new();
    for p in paths {
        s.insert(p);
    }
    s
}

#[test]
fn path_elements_encode_like_kubernetes() {
    let item = json!({"protocol": "TCP", "containerPort": 80, "name": "http"});
    let keys = ListType::Map {
        keys: vec!["protocol".into(), "containerPort".into()],
    };
    let key = PathElement::for_list_item(&keys, &item, 0).unwrap();
    let cases = [
        (f("spec"), "f:spec", ".spec"),
        (
            key,
            r#"k:{"containerPort":80,"protocol":"TCP"}"#,
            r#"[containerPort=80,protocol="TCP"]"#,
        ),
        (PathElement::Value(json!("x")), r#"v:"x""#, r#"[="x"]"#),
        (PathElement::Index(3), "i:3", "[3]"),
    ];
    for (pe, v1, shown) in cases {
        assert_eq!(pe.to_fields_v1_key(), v1);
        assert_eq!(PathElement::from_fields_v1_key(v1).unwrap(), pe);
        assert_eq!(pe.to_string(), shown);
    }
    assert_eq!(
        path_string(&[
            f("spec"),
            PathElement::Key(vec![("name".into(), json!("web"))]),
            f("image")
        ]),
        r#".spec[name="web"].image"#
    );
}

#[test]
fn malformed_keys_and_items_are_errors() {
    for bad in ["x:1", "nocolon", "i:-1", "k:[1]", "k:{}", "v:{"] {
        assert!(PathElement::from_fields_v1_key(bad).is_err(), "{bad}");
    }
    let keys = ListType::Map {
        keys: vec!["name".into()],
    };
    assert!(PathElement::for_list_item(&keys, &json!({"image": "x"}), 0).is_err());
    assert!(PathElement::for_list_item(&keys, &json!("scalar"), 0).is_err());
    assert!(PathElement::for_list_item(&ListType::Map { keys: vec![] }, &json!({}), 0).is_err());
    assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
    assert!(FieldSet::from_fields_v1(&json!([])).is_err());
}

#[test]
fn set_algebra() {
    let a = set(&[&[f("spec"), f("a")], &[f("spec"), f("b")], &[f("x")]]);
    let b = set(&[&[f("spec"), f("b")], &[f("spec"), f("c")]]);
    assert_eq!(
        a.union(&b),
        set(&[
            &[f("spec"), f("a")],
            &[f("spec"), f("b")],
            &[f("spec"), f("c")],
            &[f("x")]
        ])
    );
    assert_eq!(a.difference(&b), set(&[&[f("spec"), f("a")], &[f("x")]]));
    assert_eq!(a.intersection(&b), set(&[&[f("spec"), f("b")]]));
    assert!(a.difference(&a).is_empty());
    // A member does not cover the paths below it for difference, but does for prefixes.
    let spec = set(&[&[f("spec")]]);
    assert_eq!(a.difference(&spec), a);
    assert_eq!(a.without_prefixes(&spec), set(&[&[f("x")]]));
    assert_eq!(
        a.paths(),
        vec![
            vec![f("x")],
            vec![f("spec"), f("a")],
            vec![f("spec"), f("b")]
        ]
    );
}

#[test]
fn from_value_with_deduced_schema_owns_every_entry() {
    let v = json!({"spec": {"list": [1, 2], "empty": {}, "nil": null, "m": {"k": "v"}}});
    let s = FieldSet::from_value(&v, &Deduced).unwrap();
    assert_eq!(
        s.to_fields_v1(),
        json!({"f:spec": {".": {}, "f:empty": {}, "f:list": {}, "f:m": {".": {}, "f:k": {}}, "f:nil": {}}})
    );
    assert_eq!(FieldSet::from_fields_v1(&s.to_fields_v1()).unwrap(), s);
}
