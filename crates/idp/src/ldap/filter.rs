//! LDAP search filter building: RFC 4515 value escaping and composition with configured filters.

/// Escapes a value for use inside an LDAP filter assertion (RFC 4515 section 3): `*`, `(`,
/// `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`. Other control characters are
/// escaped as well so that no input can change the filter's structure.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' | '(' | ')' | '\\' | '\0' => out.push_str(&format!("\\{:02x}", c as u32)),
            c if c.is_ascii_control() => out.push_str(&format!("\\{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A configured filter in parentheses: KubeSphere users write both `(objectClass=person)`
/// and `objectClass=person`.
fn parenthesized(filter: &str) -> Option<String> {
    let filter = filter.trim();
    if filter.is_empty() {
        None
    } else if filter.starts_with('(') {
        Some(filter.to_string())
    } else {
        Some(format!("({filter})"))
    }
}

/// `(attr=<escaped value>)`, and-ed with the configured filter when there is one.
pub fn equality_and(attr: &str, value: &str, configured: &str) -> String {
    let assertion = format!("({attr}={})", escape_value(value));
    match parenthesized(configured) {
        Some(extra) => format!("(&{assertion}{extra})"),
        None => assertion,
    }
}

/// The value of the first RDN of a DN (`cn=admins,ou=groups,dc=x` → `admins`), used as a
/// group name when only the group's DN is known.
pub fn first_rdn_value(dn: &str) -> &str {
    let mut escaped = false;
    let mut end = dn.len();
    for (i, c) in dn.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' || c == '+' {
            end = i;
            break;
        }
    }
    let rdn = &dn[..end];
    rdn.split_once('=').map_or(rdn, |(_, v)| v).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_rfc4515_specials() {
        assert_eq!(escape_value("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
        assert_eq!(escape_value("a\\b\0c"), "a\\5cb\\00c");
        assert_eq!(escape_value("jöhn.doe"), "jöhn.doe");
        assert_eq!(escape_value("x\ny"), "x\\0ay");
    }

    #[test]
    fn composes_filters() {
        assert_eq!(equality_and("uid", "alice", ""), "(uid=alice)");
        assert_eq!(
            equality_and("uid", "alice", "objectClass=person"),
            "(&(uid=alice)(objectClass=person))"
        );
        assert_eq!(
            equality_and("uid", "*", "(|(a=1)(b=2))"),
            "(&(uid=\\2a)(|(a=1)(b=2)))"
        );
    }

    #[test]
    fn rdn_values() {
        assert_eq!(first_rdn_value("cn=admins,ou=groups,dc=x"), "admins");
        assert_eq!(first_rdn_value("cn=a\\,b,dc=x"), "a\\,b");
        assert_eq!(first_rdn_value("plain"), "plain");
    }
}
