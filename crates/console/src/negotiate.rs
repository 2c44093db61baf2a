//! HTTP content negotiation for static files: `Accept-Encoding` and `If-None-Match`.

/// The encodings the console may have been pre-compressed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Brotli,
    Gzip,
    Identity,
}

/// Whether the client accepts `coding` (RFC 9110 §12.5.3: a `q=0` refuses it; `*` covers codings
/// not named).
pub(crate) fn accepts(accept_encoding: Option<&str>, coding: Coding) -> bool {
    let Some(header) = accept_encoding else {
        return coding == Coding::Identity;
    };
    let wanted = match coding {
        Coding::Brotli => "br",
        Coding::Gzip => "gzip",
        Coding::Identity => "identity",
    };
    let mut star = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .or_else(|| p.trim().strip_prefix("Q="))
            })
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(wanted)
            || (coding == Coding::Gzip && name.eq_ignore_ascii_case("x-gzip"))
        {
            return q > 0.0;
        }
        if name == "*" {
            star = Some(q > 0.0);
        }
    }
    // Identity stays acceptable unless refused explicitly or through `*;q=0`.
    star.unwrap_or(coding == Coding::Identity)
}

/// Whether an `If-None-Match` header matches `etag`, using the weak comparison RFC 9110 §13.1.2
/// prescribes for this header (a `W/` prefix on the client's tag does not prevent a match).
pub(crate) fn none_match(if_none_match: &str, etag: &str) -> bool {
    if if_none_match.trim() == "*" {
        return true;
    }
    let ours = etag.trim_start_matches("W/");
    if_none_match
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_honours_q_values_and_star() {
        assert!(accepts(Some("gzip, deflate, br"), Coding::Brotli));
        assert!(accepts(Some("gzip;q=0.5"), Coding::Gzip));
        assert!(!accepts(Some("gzip;q=0"), Coding::Gzip));
        assert!(!accepts(Some("gzip"), Coding::Brotli));
        assert!(accepts(Some("*"), Coding::Brotli));
        assert!(!accepts(Some("*;q=0"), Coding::Identity));
        assert!(accepts(Some("gzip"), Coding::Identity));
        assert!(!accepts(None, Coding::Gzip));
        assert!(accepts(None, Coding::Identity));
        assert!(accepts(Some("x-gzip"), Coding::Gzip));
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_lists() {
        assert!(none_match("\"a\"", "\"a\""));
        assert!(none_match("W/\"a\"", "\"a\""));
        assert!(none_match("\"b\", \"a\"", "\"a\""));
        assert!(none_match("*", "\"a\""));
        assert!(!none_match("\"b\"", "\"a\""));
        assert!(!none_match("\"a-gz\"", "\"a\""));
    }
}
