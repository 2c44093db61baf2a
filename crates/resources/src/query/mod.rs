//! KubeSphere's list query (`page`, `limit`, `sortBy`, `ascending`, selectors, filters) and its parsing.

mod apply;

pub use apply::{
    ListResult, Matcher, SortKey, apply, apply_for, matches, page_window, sort_key, update_seconds,
};

use apimachinery::fields::{self, FieldSelector};
use apimachinery::labels::{self, Selector};

/// Query keys that are parameters, not filters (`pkg/apiserver/query/types.go`).
const RESERVED: [&str; 6] = [
    "page",
    "limit",
    "sortBy",
    "ascending",
    "labelSelector",
    "fieldSelector",
];

/// Why a query string was refused; the HTTP layer answers 400 with the message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// `labelSelector` does not parse as a Kubernetes label selector.
    #[error("invalid labelSelector {value:?}: {source}")]
    LabelSelector {
        /// The selector as sent.
        value: String,
        /// The parser's reason.
        #[source]
        source: labels::SelectorError,
    },
    /// `fieldSelector` does not parse as a Kubernetes field selector.
    #[error("invalid fieldSelector {value:?}: {source}")]
    FieldSelector {
        /// The selector as sent.
        value: String,
        /// The parser's reason.
        #[source]
        source: labels::SelectorError,
    },
    /// `page` is not an integer of at least 1.
    #[error("invalid page {0:?}: it must be an integer of at least 1")]
    Page(String),
    /// `limit` is not -1 (everything) or a non-negative integer.
    #[error("invalid limit {0:?}: it must be -1 (no limit) or an integer of at least 0")]
    Limit(String),
    /// `page` and `limit` together point past any list that can exist.
    #[error("page {page} with limit {limit} is out of range")]
    PageOutOfRange {
        /// The page asked for.
        page: i64,
        /// The page size asked for.
        limit: i64,
    },
    /// `sortBy` names a field no resource can be sorted by.
    #[error(
        "unsupported sortBy {0:?}: use name, creationTimestamp, createTime, updateTime or lastUpdateTimestamp"
    )]
    SortBy(String),
}

/// What a list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortField {
    /// `sortBy=name`
    Name,
    /// `sortBy=creationTimestamp` or `createTime` (the default)
    #[default]
    CreationTimestamp,
    /// `sortBy=updateTime` or `lastUpdateTimestamp`: the newest condition update for
    /// deployments and jobs; other resources fall back to the creation time, as in KubeSphere.
    UpdateTime,
}

impl SortField {
    /// The field named by a `sortBy` value; empty means the default.
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        match raw {
            "" | "creationTimestamp" | "createTime" => Ok(SortField::CreationTimestamp),
            "name" => Ok(SortField::Name),
            "updateTime" | "lastUpdateTimestamp" => Ok(SortField::UpdateTime),
            other => Err(QueryError::SortBy(other.to_string())),
        }
    }
}

/// A parsed list query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// 1-based page (parsing refuses values below 1).
    pub page: i64,
    /// Page size; `None` lists everything (parsing refuses negative sizes but -1).
    pub limit: Option<i64>,
    /// Sort field, creation time by default.
    pub sort_by: SortField,
    /// Ascending order; KubeSphere's default is descending.
    pub ascending: bool,
    /// `labelSelector`, applied before the filters.
    pub label_selector: Option<Selector>,
    /// `fieldSelector`: dotted JSON paths compared as strings (`type=kubernetes.io/tls`).
    pub field_selector: Option<FieldSelector>,
    /// Every other key with its first value, in the order first seen. Keys no filter
    /// knows are kept but match everything (KubeSphere v4).
    pub filters: Vec<(String, String)>,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            page: 1,
            limit: None,
            sort_by: SortField::CreationTimestamp,
            ascending: false,
            label_selector: None,
            field_selector: None,
            filters: Vec::new(),
        }
    }
}

impl Query {
    /// Parses a raw, percent-encoded query string (without the `?`).
    pub fn parse(raw: &str) -> Result<Query, QueryError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Query::from_pairs(&pairs)
    }

    /// Builds a query from decoded key/value pairs; only the first value of a key counts.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Query, QueryError> {
        let first = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        // KubeSphere silently turns garbage or negative paging into an empty or full
        // list; a clear 400 tells the caller what went wrong instead.
        let page = match first("page").filter(|v| !v.is_empty()) {
            None => 1,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if n >= 1 => n,
                _ => return Err(QueryError::Page(raw.to_string())),
            },
        };
        let limit = match first("limit").filter(|v| !v.is_empty()) {
            None => None,
            Some(raw) => match raw.parse::<i64>() {
                Ok(-1) => None,
                Ok(n) if n >= 0 => Some(n),
                _ => return Err(QueryError::Limit(raw.to_string())),
            },
        };
        if let Some(limit) = limit
            && (page - 1).checked_mul(limit).is_none()
        {
            return Err(QueryError::PageOutOfRange { page, limit });
        }
        let mut query = Query {
            limit,
            page,
            sort_by: SortField::parse(first("sortBy").unwrap_or(""))?,
            ascending: first("ascending").and_then(parse_go_bool).unwrap_or(false),
            ..Query::default()
        };
        if let Some(raw) = first("labelSelector").filter(|s| !s.is_empty()) {
            let selector = labels::parse(raw).map_err(|source| QueryError::LabelSelector {
                value: raw.to_string(),
                source,
            })?;
            query.label_selector = Some(selector);
        }
        if let Some(raw) = first("fieldSelector").filter(|s| !s.is_empty()) {
            let selector = fields::parse(raw).map_err(|source| QueryError::FieldSelector {
                value: raw.to_string(),
                source,
            })?;
            query.field_selector = Some(selector);
        }
        for (key, value) in pairs {
            if RESERVED.contains(&key.as_str()) || query.filters.iter().any(|(k, _)| k == key) {
                continue;
            }
            query.filters.push((key.clone(), value.clone()));
        }
        Ok(query)
    }

    /// The first value of a filter key.
    pub fn filter(&self, key: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Adds or replaces a filter (handlers use it for path parameters such as the workspace).
    pub fn set_filter(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        match self.filters.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.filters.push((key, value)),
        }
    }

    /// The half-open range of sorted matches to return, given how many matched: KubeSphere's
    /// `GetValidPagination`, with overflow treated as past the end.
    pub fn window(&self, total: usize) -> (usize, usize) {
        page_window(self.page, self.limit, total)
    }

    /// How many sorted matches must be produced to fill the page (`None`: all of them).
    pub fn needed(&self) -> Option<usize> {
        let (start, end) = self.window(usize::MAX);
        match self.limit {
            None => None,
            Some(_) if start >= end => Some(0),
            Some(_) => Some(end),
        }
    }
}

/// `strconv.ParseBool`.
fn parse_go_bool(raw: &str) -> Option<bool> {
    match raw {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_absent() {
        let q = Query::parse("page=&limit=&ascending=maybe").unwrap();
        assert_eq!(q.page, 1);
        assert_eq!(q.limit, None);
        assert!(!q.ascending);
        assert_eq!(q.sort_by, SortField::CreationTimestamp);
        assert!(q.filters.is_empty());
    }

    #[test]
    fn bad_paging_is_an_error() {
        for (raw, want) in [
            ("page=x", QueryError::Page("x".into())),
            ("page=0", QueryError::Page("0".into())),
            ("page=-2", QueryError::Page("-2".into())),
            (
                "page=99999999999999999999",
                QueryError::Page("99999999999999999999".into()),
            ),
            ("limit=ten", QueryError::Limit("ten".into())),
            ("limit=-5", QueryError::Limit("-5".into())),
            (
                "limit=9223372036854775807&page=9",
                QueryError::PageOutOfRange {
                    page: 9,
                    limit: i64::MAX,
                },
            ),
        ] {
            assert_eq!(Query::parse(raw), Err(want), "{raw}");
        }
        let message = Query::parse("limit=-5").unwrap_err().to_string();
        assert!(
            message.contains("limit") && message.contains("-5"),
            "{message}"
        );
    }

    #[test]
    fn parameters_and_first_value_filters() {
        let q = Query::parse(
            "page=2&limit=10&sortBy=name&ascending=true&name=a%20b&name=zzz&status=running&unknown=1",
        )
        .unwrap();
        assert_eq!((q.page, q.limit), (2, Some(10)));
        assert_eq!(q.sort_by, SortField::Name);
        assert!(q.ascending);
        assert_eq!(
            q.filters,
            vec![
                ("name".to_string(), "a b".to_string()),
                ("status".to_string(), "running".to_string()),
                ("unknown".to_string(), "1".to_string()),
            ]
        );
        assert_eq!(q.filter("name"), Some("a b"));
    }

    #[test]
    fn bad_selectors_and_sort_are_errors() {
        assert!(matches!(
            Query::parse("labelSelector=a%20in%20(b"),
            Err(QueryError::LabelSelector { .. })
        ));
        assert!(matches!(
            Query::parse("fieldSelector=a%3D%3D%3Db%3D"),
            Err(QueryError::FieldSelector { .. })
        ));
        assert_eq!(
            Query::parse("sortBy=color"),
            Err(QueryError::SortBy("color".into()))
        );
        let q = Query::parse("labelSelector=app%3Dweb,tier!%3Ddb").unwrap();
        assert_eq!(q.label_selector.unwrap().to_string(), "app=web,tier!=db");
    }

    #[test]
    fn window_follows_kubesphere() {
        let w = |raw: &str, total| Query::parse(raw).unwrap().window(total);
        assert_eq!(w("", 7), (0, 7));
        assert_eq!(w("limit=-1&page=3", 7), (0, 7));
        assert_eq!(w("limit=3", 7), (0, 3));
        assert_eq!(w("limit=3&page=3", 7), (6, 7));
        assert_eq!(w("limit=3&page=4", 7), (0, 0));
        assert_eq!(w("limit=0", 7), (0, 0));
        assert_eq!(w("limit=9223372036854775807", 7), (0, 7));
        assert_eq!(w("limit=4611686018427387904&page=2", 7), (0, 0));
        assert_eq!(Query::parse("limit=3&page=2").unwrap().needed(), Some(6));
        assert_eq!(Query::parse("limit=0").unwrap().needed(), Some(0));
        assert_eq!(Query::parse("").unwrap().needed(), None);
    }
}
