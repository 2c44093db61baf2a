//! Table tests for the name validators, messages checked against kube-apiserver.

use super::*;

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

#[test]
fn subdomain_message_matches_golden_422() {
    let golden =
        include_str!("../../../testdata/kube-apiserver-golden/errors/422-invalid-name.txt");
    let body: serde_json::Value =
        serde_json::from_str(golden.split_once('\n').map(|(_, b)| b).unwrap_or(golden)).unwrap();
    let msg = body["details"]["causes"][0]["message"].as_str().unwrap();
    let errs = is_dns1123_subdomain("Bad_Name");
    assert_eq!(errs, vec![SUBDOMAIN_MSG.to_string()]);
    assert_eq!(msg, format!("Invalid value: \"Bad_Name\": {}", errs[0]));
}

#[test]
fn dns1123_subdomain_table() {
    let long = "a".repeat(254);
    let ok = [
        "a",
        "ab",
        "a.b",
        "a-b.c-d",
        "0",
        "1.2.3",
        "a".repeat(253).as_str(),
    ]
    .map(String::from);
    for v in ok {
        assert!(is_dns1123_subdomain(&v).is_empty(), "{v}");
    }
    for v in ["", "A", "a_b", "-a", "a-", "a..b", ".a", "a.", "a b", "é"] {
        assert_eq!(
            is_dns1123_subdomain(v),
            vec![SUBDOMAIN_MSG.to_string()],
            "{v:?}"
        );
    }
    assert_eq!(
        is_dns1123_subdomain(&long),
        vec!["must be no more than 253 characters".to_string()]
    );
}

#[test]
fn dns1123_label_table() {
    for v in ["a", "a-b", "0a", "abc-123", &"a".repeat(63)] {
        assert!(is_dns1123_label(v).is_empty(), "{v}");
    }
    assert_eq!(is_dns1123_label("a.b"), vec!["must not contain dots"]);
    assert_eq!(
        is_dns1123_label("A"),
        vec![
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        ]
    );
    assert_eq!(
        is_dns1123_label(&"a".repeat(64)),
        vec!["must be no more than 63 characters"]
    );
}

#[test]
fn dns1035_label_table() {
    assert!(is_dns1035_label("abc-1").is_empty());
    for v in ["1abc", "", "a_b", "abc-", "a.b"] {
        assert_eq!(
            is_dns1035_label(v),
            vec![
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
            ],
            "{v:?}"
        );
    }
}

#[test]
fn qualified_name_table() {
    for v in [
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "1234",
        "simple/simple",
        "now-with-dashes/simple",
        "example.com/Upper_Case.and-more",
        "a/b",
        "kubernetes.io/metadata.name",
        &"a".repeat(63),
    ] {
        assert!(is_qualified_name(v).is_empty(), "{v}");
    }
    let name_msg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    assert_eq!(is_qualified_name("a_"), vec![name_msg.to_string()]);
    assert_eq!(
        is_qualified_name(""),
        vec![
            "name part must be non-empty".to_string(),
            name_msg.to_string()
        ]
    );
    assert_eq!(
        is_qualified_name("/a"),
        vec!["prefix part must be non-empty".to_string()]
    );
    assert_eq!(
        is_qualified_name("Example.com/a"),
        vec![format!("prefix part {SUBDOMAIN_MSG}")]
    );
    assert_eq!(
        is_qualified_name(&"a".repeat(64)),
        vec!["name part must be no more than 63 bytes".to_string()]
    );
    assert_eq!(
        is_qualified_name(&format!("{}/a", "a".repeat(254))),
        vec!["prefix part must be no more than 253 bytes".to_string()]
    );
    assert_eq!(
        is_qualified_name("a/b/c"),
        vec!["a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_string()]
    );
}

#[test]
fn label_value_table() {
    for v in [
        "",
        "simple",
        "now-with-dashes",
        "1234",
        "Upper_and.dots",
        &"a".repeat(63),
    ] {
        assert!(is_valid_label_value(v).is_empty(), "{v}");
    }
    let msg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    for v in ["nospecialchars%^=@", "Tama-nui-te-rā", "-a", "a b", "a/b"] {
        assert_eq!(is_valid_label_value(v), vec![msg.to_string()], "{v}");
    }
    assert_eq!(
        is_valid_label_value(&"a".repeat(64)),
        vec!["must be no more than 63 bytes".to_string()]
    );
}

#[test]
fn path_segments() {
    assert_eq!(is_path_segment_name("."), vec!["may not be '.'"]);
    assert_eq!(is_path_segment_name(".."), vec!["may not be '..'"]);
    assert_eq!(
        is_path_segment_name("a/b%c"),
        vec!["may not contain '/'", "may not contain '%'"]
    );
    assert!(is_path_segment_name("system:admin").is_empty());
    assert!(is_path_segment_prefix("..").is_empty());
    assert!(names::path_segment(".", true).is_empty());
}

#[test]
fn ports() {
    assert!(is_valid_port_num(1).is_empty());
    assert!(is_valid_port_num(65535).is_empty());
    assert_eq!(
        is_valid_port_num(0),
        vec!["must be between 1 and 65535, inclusive"]
    );
    assert_eq!(
        is_valid_port_num(65536),
        vec!["must be between 1 and 65535, inclusive"]
    );
    assert!(is_valid_port_name("http").is_empty());
    assert_eq!(
        is_valid_port_name("-1"),
        vec![
            "must contain at least one letter (a-z)",
            "must not begin or end with a hyphen"
        ]
    );
    assert_eq!(
        is_valid_port_name("a--b-very-long-name"),
        vec![
            "must be no more than 15 characters",
            "must not contain consecutive hyphens"
        ]
    );
}

#[test]
fn ips() {
    for v in ["10.9.8.7", "2001:db8::ffff", "::1", "0.0.0.0", "::"] {
        assert!(is_valid_ip(v).is_empty(), "{v}");
    }
    let bad = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
    for v in [
        "",
        "1.2.3",
        "256.0.0.1",
        "a.b.c.d",
        "1.2.3.4/32",
        "fe80::1%eth0",
    ] {
        assert_eq!(is_valid_ip(v), vec![bad], "{v}");
    }
    assert_eq!(is_valid_ip("010.0.0.1"), vec!["must not have leading 0s"]);
    assert_eq!(
        is_valid_ip("::ffff:1.2.3.4"),
        vec!["must not be an IPv4-mapped IPv6 address"]
    );
    assert_eq!(
        is_valid_ip("2001:DB8::1"),
        vec!["must be in canonical form (\"2001:db8::1\")"]
    );
    assert_eq!(
        is_valid_ip("2001:db8:0:0:0:0:0:1"),
        vec!["must be in canonical form (\"2001:db8::1\")"]
    );
}

#[test]
fn identifiers_and_keys() {
    assert!(is_c_identifier("_my_Name1").is_empty());
    assert_eq!(
        is_c_identifier("1a"),
        vec![
            "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')"
        ]
    );
    assert!(is_env_var_name("my.env-name").is_empty());
    assert!(is_env_var_name("MY_ENV.NAME").is_empty());
    assert_eq!(is_env_var_name("1a").len(), 1);
    assert_eq!(is_env_var_name(".."), vec!["must not be '..'".to_string()]);
    assert_eq!(
        is_env_var_name("a=b")[0],
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
    );
    assert!(is_config_map_key("key.name").is_empty());
    assert!(is_config_map_key("1KEY_name").is_empty());
    assert_eq!(is_config_map_key("."), vec!["must not be '.'"]);
    assert_eq!(is_config_map_key("..a"), vec!["must not start with '..'"]);
    assert_eq!(
        is_config_map_key("a/b"),
        vec![
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
        ]
    );
    assert_eq!(is_config_map_key(&"a".repeat(254)).len(), 1);
}

#[test]
fn generate_name_prefixes_may_end_in_dash() {
    assert!(names::dns_subdomain("web-", true).is_empty());
    assert!(!names::dns_subdomain("web-", false).is_empty());
    assert!(names::dns_label("a-", true).is_empty());
    assert!(names::dns1035_label("svc-", true).is_empty());
    assert!(!names::dns1035_label("1a-", true).is_empty());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_panic_on_any_string(s in "\\PC{0,80}") {
            let _ = is_dns1123_subdomain(&s);
            let _ = is_dns1123_label(&s);
            let _ = is_qualified_name(&s);
            let _ = is_valid_label_value(&s);
            let _ = is_valid_ip(&s);
            let _ = is_env_var_name(&s);
            let _ = is_config_map_key(&s);
            let _ = names::dns_subdomain(&s, true);
        }

        #[test]
        fn generated_subdomains_are_valid(s in "[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?){0,5}") {
            prop_assert!(is_dns1123_subdomain(&s).is_empty());
        }

        #[test]
        fn generated_label_values_are_valid(s in "([A-Za-z0-9][-A-Za-z0-9_.]{0,60}[A-Za-z0-9])?") {
            prop_assert!(is_valid_label_value(&s).is_empty());
        }
    }
}
