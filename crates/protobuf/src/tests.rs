//! Unit tests of decode against hand-built protobuf bodies.

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn num(tag: u64, v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint(tag << 3, &mut out);
    varint(v, &mut out);
    out
}

fn len(tag: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint((tag << 3) | 2, &mut out);
    varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

fn msg(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn entry(key: &str, value: &[u8]) -> Vec<u8> {
    msg(&[len(1, key.as_bytes()), len(2, value)])
}

fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = msg(&[len(1, api_version.as_bytes()), len(2, kind.as_bytes())]);
    [
        MAGIC.to_vec(),
        len(1, &type_meta),
        len(2, raw),
        len(3, b""),
        len(4, b""),
    ]
    .concat()
}

/// ObjectMeta{name, namespace, generateName: "", creationTimestamp: zero} as Go marshals it.
fn meta(name: &str) -> Vec<u8> {
    msg(&[
        len(1, name.as_bytes()),
        len(2, b""),
        len(3, b"ns"),
        num(7, 0),
        len(8, b""),
    ])
}

#[test]
fn recognises_the_protobuf_media_type() {
    assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
    assert!(is_protobuf(
        "Application/Vnd.Kubernetes.Protobuf; charset=utf-8"
    ));
    assert!(!is_protobuf("application/json"));
    assert!(!is_protobuf("application/vnd.kubernetes.protobuf+json"));
}

#[test]
fn configmap_keeps_pointer_zeros_and_drops_omitempty_zeros() {
    let raw = msg(&[
        len(1, &meta("cm")),
        len(2, &entry("a", b"1")),
        len(2, &entry("b", b"")),
        len(3, &entry("bin", &[0, 255, 1])),
        num(4, 0),
    ]);
    let got = decode(&envelope("v1", "ConfigMap", &raw)).unwrap();
    assert_eq!(
        got,
        json!({
            "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "cm", "namespace": "ns", "creationTimestamp": null},
            "data": {"a": "1", "b": ""},
            "binaryData": {"bin": "AP8B"},
            "immutable": false,
        })
    );
}

#[test]
fn deployment_replicas_zero_int_or_string_quantity_and_inline_probe() {
    let container = msg(&[
        len(1, b"web"),
        len(2, b"nginx"),
        len(8, &msg(&[len(1, &entry("cpu", &len(1, b"100m")))])),
        // livenessProbe: inline ProbeHandler{httpGet{path, port: IntOrString int 8080}}, periodSeconds 0
        len(
            10,
            &msg(&[
                len(
                    1,
                    &len(
                        2,
                        &msg(&[
                            len(1, b"/healthz"),
                            len(2, &msg(&[num(1, 0), num(2, 8080), len(3, b"")])),
                        ]),
                    ),
                ),
                num(4, 0),
            ]),
        ),
    ]);
    let strategy = msg(&[
        len(1, b"RollingUpdate"),
        len(
            2,
            &msg(&[
                len(1, &msg(&[num(1, 0), num(2, 1)])),
                len(2, &msg(&[num(1, 1), len(3, b"25%")])),
            ]),
        ),
    ]);
    let spec = msg(&[
        num(1, 0),
        len(3, &msg(&[len(1, &meta("")), len(2, &len(2, &container))])),
        len(4, &strategy),
        num(5, 0),
        num(7, 0),
    ]);
    let raw = msg(&[len(1, &meta("d")), len(2, &spec), len(3, b"")]);
    let got = decode(&envelope("apps/v1", "Deployment", &raw)).unwrap();
    assert_eq!(got["spec"]["replicas"], json!(0));
    assert!(got["spec"].get("minReadySeconds").is_none());
    assert!(got["spec"].get("paused").is_none());
    assert_eq!(
        got["spec"]["strategy"]["rollingUpdate"],
        json!({"maxUnavailable": 1, "maxSurge": "25%"})
    );
    let c = &got["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["resources"], json!({"limits": {"cpu": "100m"}}));
    assert_eq!(
        c["livenessProbe"],
        json!({"httpGet": {"path": "/healthz", "port": 8080}})
    );
    assert_eq!(got["status"], json!({}));
    assert_eq!(
        got["spec"]["template"]["metadata"],
        json!({"namespace": "ns", "creationTimestamp": null})
    );
}

#[test]
fn self_subject_access_review_with_string_list_wrappers() {
    let attrs = msg(&[len(1, b"x"), len(2, b"get"), len(5, b"pods"), len(3, b"")]);
    let raw = msg(&[
        len(1, &meta("")),
        len(2, &msg(&[len(1, &attrs)])),
        len(3, &msg(&[num(1, 0)])),
    ]);
    let got = decode(&envelope(
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        &raw,
    ))
    .unwrap();
    assert_eq!(
        got["spec"],
        json!({"resourceAttributes": {"namespace": "x", "verb": "get", "resource": "pods"}})
    );
    // `allowed` has no omitempty in Go, so false is kept.
    assert_eq!(got["status"], json!({"allowed": false}));

    let user = msg(&[
        len(1, b"alice"),
        len(4, &entry("scopes", &msg(&[len(1, b"a"), len(1, b"b")]))),
    ]);
    let raw = msg(&[
        len(1, &meta("t")),
        len(2, &msg(&[len(1, b"tok"), len(5, &user)])),
    ]);
    let got = decode(&envelope("authentication.k8s.io/v1", "TokenReview", &raw)).unwrap();
    assert_eq!(got["spec"]["token"], json!("tok"));
}

#[test]
fn times_durations_and_raw_extensions() {
    let time = msg(&[num(1, 1_795_669_771), num(2, 0)]);
    let raw = msg(&[
        len(1, &msg(&[len(1, b"ev"), len(8, &time)])),
        len(2, &msg(&[num(1, 1_795_669_771), num(2, 5_000)])),
    ]);
    let got = decode(&envelope("events.k8s.io/v1", "Event", &raw)).unwrap();
    assert_eq!(
        got["metadata"]["creationTimestamp"],
        json!("2026-11-26T05:09:31Z")
    );
    assert_eq!(got["eventTime"], json!("2026-11-26T05:09:31.000005Z"));

    let data = len(1, br#"{"a":[1,2]}"#);
    let raw = msg(&[len(1, &meta("rev")), len(2, &data), num(3, 4)]);
    let got = decode(&envelope("apps/v1", "ControllerRevision", &raw)).unwrap();
    assert_eq!(got["data"], json!({"a": [1, 2]}));
    assert_eq!(got["revision"], json!(4));

    let bad = msg(&[len(1, &meta("rev")), len(2, &len(1, b"{not json"))]);
    assert!(matches!(
        decode(&envelope("apps/v1", "ControllerRevision", &bad)),
        Err(ProtobufError::EmbeddedJson { .. })
    ));
}

#[test]
fn delete_options_are_accepted_under_any_group_version() {
    let raw = msg(&[num(1, 0), len(4, b"Foreground")]);
    let got = decode(&envelope("apps/v1", "DeleteOptions", &raw)).unwrap();
    assert_eq!(
        got,
        json!({"kind": "DeleteOptions", "apiVersion": "apps/v1", "gracePeriodSeconds": 0, "propagationPolicy": "Foreground"})
    );
}

#[test]
fn eviction_as_kubectl_drain_sends_it() {
    let options = msg(&[num(1, 30), len(2, &len(1, b"uid-1")), len(5, b"All")]);
    let raw = msg(&[len(1, &meta("web-0")), len(2, &options)]);
    let got = decode(&envelope("policy/v1", "Eviction", &raw)).unwrap();
    assert_eq!(
        got,
        json!({
            "kind": "Eviction", "apiVersion": "policy/v1",
            "metadata": {"name": "web-0", "namespace": "ns", "creationTimestamp": null},
            "deleteOptions": {"gracePeriodSeconds": 30, "preconditions": {"uid": "uid-1"}, "dryRun": ["All"]},
        })
    );
}

#[test]
fn negative_int32_and_packed_repeated_values() {
    // PodFailurePolicyOnExitCodesRequirement.values is []int32; send it packed, and a
    // negative int32 as Go does (sign-extended to 10 bytes).
    let mut packed = Vec::new();
    for v in [1u64, 42] {
        varint(v, &mut packed);
    }
    let rule = msg(&[
        len(1, b"FailJob"),
        len(2, &msg(&[len(2, b"In"), len(3, &packed), num(3, 7)])),
    ]);
    let spec = msg(&[len(11, &len(1, &rule)), num(7, u64::MAX)]);
    let raw = msg(&[len(1, &meta("j")), len(2, &spec)]);
    let got = decode(&envelope("batch/v1", "Job", &raw)).unwrap();
    assert_eq!(
        got["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"],
        json!([1, 42, 7])
    );
    assert_eq!(got["spec"]["backoffLimit"], json!(-1));
}

#[test]
fn clear_errors_for_bad_bodies() {
    assert!(matches!(
        decode(b"{\"kind\":\"Pod\"}"),
        Err(ProtobufError::BadMagic)
    ));
    assert!(matches!(
        decode(&envelope("v1", "Nope", b"")),
        Err(ProtobufError::UnknownKind { .. })
    ));
    let e = decode(&envelope("example.com/v1", "Widget", b"")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown kind `Widget` in `example.com/v1`: not a built-in type this server decodes from protobuf"
    );
    let mut truncated = envelope("v1", "ConfigMap", &len(1, &meta("x")));
    truncated.truncate(truncated.len() - 3);
    assert!(matches!(
        decode(&truncated),
        Err(ProtobufError::Truncated(_))
    ));
    // metadata (tag 1) sent as a varint
    assert!(matches!(
        decode(&envelope("v1", "ConfigMap", &num(1, 3))),
        Err(ProtobufError::WrongWireType { tag: 1, .. })
    ));
    let mut gz = envelope("v1", "ConfigMap", b"");
    gz.extend(len(3, b"gzip"));
    assert!(matches!(
        decode(&gz),
        Err(ProtobufError::UnsupportedEncoding(_))
    ));
    assert!(matches!(
        decode(&envelope(
            "v1",
            "ConfigMap",
            &len(1, &len(1, &[0xff, 0xfe]))
        )),
        Err(ProtobufError::InvalidUtf8 { .. })
    ));
}

#[test]
fn a_repeated_message_merges_and_absent_slices_are_null() {
    // ClusterRole.rules has no omitempty, so it is null when absent; a second metadata
    // occurrence merges into the first as Go's decoder does.
    let raw = msg(&[len(1, &len(1, b"cr")), len(1, &len(11, &entry("a", b"b")))]);
    let got = decode(&envelope(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        &raw,
    ))
    .unwrap();
    assert_eq!(got["metadata"], json!({"name": "cr", "labels": {"a": "b"}}));
    assert_eq!(got["rules"], serde_json::Value::Null);
}

#[test]
fn unknown_fields_are_skipped() {
    let raw = msg(&[len(1, &meta("cm")), num(99, 7), len(98, b"zzz")]);
    let got = decode(&envelope("v1", "ConfigMap", &raw)).unwrap();
    assert_eq!(got["metadata"]["name"], json!("cm"));
    assert_eq!(got.as_object().map(|o| o.len()), Some(3));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    // JSONSchemaProps{items: JSONSchemaPropsOrArray{schema: JSONSchemaProps{...}}}, 200 levels.
    let mut props = Vec::new();
    for _ in 0..200 {
        props = len(24, &len(1, &props));
    }
    let crd_spec = msg(&[len(7, &msg(&[len(1, b"v1"), len(4, &len(1, &props))]))]);
    let raw = msg(&[len(1, &meta("c")), len(2, &crd_spec)]);
    assert!(matches!(
        decode(&envelope(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            &raw
        )),
        Err(ProtobufError::TooDeep(_))
    ));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&body);
        let mut prefixed = MAGIC.to_vec();
        prefixed.extend_from_slice(&body);
        let _ = decode(&prefixed);
    }

    #[test]
    fn arbitrary_payloads_of_real_kinds_never_panic(
        kind in prop::sample::select(vec![("v1", "Pod"), ("apps/v1", "Deployment"), ("apiextensions.k8s.io/v1", "CustomResourceDefinition"), ("batch/v1", "CronJob")]),
        raw in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let _ = decode(&envelope(kind.0, kind.1, &raw));
    }

    #[test]
    fn mutated_real_bodies_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut body = include_bytes!("../tests/data/captured/deployment-3.pb").to_vec();
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        let _ = decode(&body);
        body.truncate(cut.index(body.len()));
        let _ = decode(&body);
    }
}
