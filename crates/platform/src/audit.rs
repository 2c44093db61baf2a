//! The audit log: one `audit.k8s.io/v1` Event per request at Metadata level (who,
//! from where, what, the response code and latency), appended as a JSON line to
//! `DIR/audit/audit.log` by one writer task, rotated by size, and queried with
//! KubeSphere's `auditing/events` filters.

use crate::requestinfo::RequestInfo;
use serde_json::{Value, json};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Rotation limits.
#[derive(Debug, Clone, Copy)]
pub struct Rotation {
    /// A file is rotated when it grows past this.
    pub max_bytes: u64,
    /// Rotated files kept (`audit.log.1` is the newest).
    pub keep: usize,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            max_bytes: 32 * 1024 * 1024,
            keep: 5,
        }
    }
}

/// Why the audit log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open the audit log in {dir}: {source}; make the data dir writable")]
    Open {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A handle that queues events for the writer task; cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    dir: PathBuf,
    tx: mpsc::Sender<Value>,
}

/// Events queued beyond this are dropped (and counted in the log) rather than
/// making requests wait on the disk.
const QUEUE: usize = 8192;

impl AuditLog {
    /// Opens (creating) `dir/audit.log` and starts the writer task.
    pub fn open(dir: &Path, rotation: Rotation) -> Result<AuditLog, Error> {
        fs::create_dir_all(dir).map_err(|source| Error::Open {
            dir: dir.to_owned(),
            source,
        })?;
        let file = open_append(&dir.join("audit.log")).map_err(|source| Error::Open {
            dir: dir.to_owned(),
            source,
        })?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let writer = Writer {
            dir: dir.to_owned(),
            file,
            rotation,
        };
        tokio::task::spawn_blocking(move || writer.run(rx));
        Ok(AuditLog {
            dir: dir.to_owned(),
            tx,
        })
    }

    /// Queues one event.
    pub fn record(&self, event: Value) {
        if self.tx.try_send(event).is_err() {
            tracing::warn!("audit queue full: an audit event was dropped");
        }
    }

    /// Events matching `q`, newest first unless `q.ascending`, read from the current
    /// and rotated files.
    pub fn query(&self, q: &AuditQuery) -> (usize, Vec<Value>) {
        let mut files: Vec<PathBuf> = Vec::new();
        for i in (1..=64).rev() {
            let p = self.dir.join(format!("audit.log.{i}"));
            if p.exists() {
                files.push(p);
            }
        }
        files.push(self.dir.join("audit.log"));
        let mut hits = Vec::new();
        for f in files {
            let Ok(file) = File::open(&f) else { continue };
            for line in BufReader::new(file).lines().map_while(Result::ok) {
                if let Ok(ev) = serde_json::from_str::<Value>(&line)
                    && q.matches(&ev)
                {
                    hits.push(ev);
                }
            }
        }
        // Files are in write order already; newest first is the default view.
        if !q.ascending {
            hits.reverse();
        }
        let total = hits.len();
        let page = hits.into_iter().skip(q.from).take(q.size).collect();
        (total, page)
    }
}

fn open_append(p: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(p)
}

struct Writer {
    dir: PathBuf,
    file: File,
    rotation: Rotation,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Value>) {
        while let Some(ev) = rx.blocking_recv() {
            let mut line = ev.to_string();
            line.push('\n');
            if let Err(e) = self.file.write_all(line.as_bytes()) {
                tracing::error!(error = %e, "cannot write the audit log");
                continue;
            }
            let size = self.file.metadata().map(|m| m.len()).unwrap_or(0);
            if size >= self.rotation.max_bytes
                && let Err(e) = self.rotate()
            {
                tracing::error!(error = %e, "cannot rotate the audit log");
            }
        }
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let keep = self.rotation.keep.max(1);
        let _ = fs::remove_file(self.dir.join(format!("audit.log.{keep}")));
        for i in (1..keep).rev() {
            let from = self.dir.join(format!("audit.log.{i}"));
            if from.exists() {
                fs::rename(&from, self.dir.join(format!("audit.log.{}", i + 1)))?;
            }
        }
        fs::rename(self.dir.join("audit.log"), self.dir.join("audit.log.1"))?;
        self.file = open_append(&self.dir.join("audit.log"))?;
        Ok(())
    }
}

/// One audit event in the `audit.k8s.io/v1` shape, plus KubeSphere's `Workspace`.
#[allow(clippy::too_many_arguments)]
pub fn event(
    id: &str,
    info: &RequestInfo,
    uri: &str,
    user: Option<&apimachinery::UserInfo>,
    source_ip: &str,
    user_agent: &str,
    code: u16,
    received: jiff::Timestamp,
    done: jiff::Timestamp,
) -> Value {
    let mut ev = json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": id,
        "stage": "ResponseComplete",
        "requestURI": uri,
        "verb": info.verb,
        "user": match user {
            Some(u) => json!({"username": u.name, "uid": u.uid, "groups": u.groups}),
            None => json!({"username": "system:anonymous", "groups": ["system:unauthenticated"]}),
        },
        "sourceIPs": [source_ip],
        "userAgent": user_agent,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": received.to_string(),
        "stageTimestamp": done.to_string(),
        "Workspace": info.workspace,
    });
    if info.is_resource {
        ev["objectRef"] = json!({
            "resource": info.resource,
            "namespace": info.namespace,
            "name": info.name,
            "apiGroup": info.api_group,
            "apiVersion": info.api_version,
            "subresource": info.subresource,
        });
    }
    ev
}

/// KubeSphere's auditing query parameters (`*_filter` are comma-separated exact
/// values, `*_search` comma-separated substrings).
#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub workspace_filter: Vec<String>,
    pub workspace_search: Vec<String>,
    pub namespace_filter: Vec<String>,
    pub namespace_search: Vec<String>,
    pub name_filter: Vec<String>,
    pub name_search: Vec<String>,
    pub verb_filter: Vec<String>,
    pub user_filter: Vec<String>,
    pub user_search: Vec<String>,
    pub group_search: Vec<String>,
    pub source_ip_search: Vec<String>,
    pub resource_filter: Vec<String>,
    pub subresource_filter: Vec<String>,
    pub response_code_filter: Vec<String>,
    pub start: Option<jiff::Timestamp>,
    pub end: Option<jiff::Timestamp>,
    pub from: usize,
    pub size: usize,
    pub ascending: bool,
}

impl AuditQuery {
    /// Parses the query string; unknown keys are ignored as KubeSphere does.
    pub fn parse(pairs: &[(String, String)]) -> Result<AuditQuery, String> {
        let list = |k: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(key, _)| key == k)
                .flat_map(|(_, v)| v.split(','))
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let time = |k: &str| -> Result<Option<jiff::Timestamp>, String> {
            match one(k) {
                None | Some("") => Ok(None),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .and_then(|s| jiff::Timestamp::from_second(s).ok())
                    .map(Some)
                    .ok_or_else(|| format!("{k} must be a Unix time in seconds, got {v:?}")),
            }
        };
        let num = |k: &str, default: usize| -> Result<usize, String> {
            match one(k) {
                None | Some("") => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| format!("{k} must be a non-negative integer, got {v:?}")),
            }
        };
        Ok(AuditQuery {
            workspace_filter: list("workspace_filter"),
            workspace_search: list("workspace_search"),
            namespace_filter: list("objectref_namespace_filter"),
            namespace_search: list("objectref_namespace_search"),
            name_filter: list("objectref_name_filter"),
            name_search: list("objectref_name_search"),
            verb_filter: list("verb_filter"),
            user_filter: list("user_filter"),
            user_search: list("user_search"),
            group_search: list("group_search"),
            source_ip_search: list("source_ip_search"),
            resource_filter: list("objectref_resource_filter"),
            subresource_filter: list("objectref_subresource_filter"),
            response_code_filter: list("response_code_filter"),
            start: time("start_time")?,
            end: time("end_time")?,
            from: num("from", 0)?,
            size: num("size", 10)?,
            ascending: one("sort") == Some("asc"),
        })
    }

    fn matches(&self, ev: &Value) -> bool {
        let s = |v: &Value| v.as_str().unwrap_or("").to_string();
        let exact = |want: &[String], got: &str| want.is_empty() || want.iter().any(|w| w == got);
        let sub = |want: &[String], got: &str| {
            want.is_empty() || want.iter().any(|w| got.contains(w.as_str()))
        };
        let ws = s(&ev["Workspace"]);
        let ns = s(&ev["objectRef"]["namespace"]);
        let name = s(&ev["objectRef"]["name"]);
        let user = s(&ev["user"]["username"]);
        let groups: Vec<String> = ev["user"]["groups"]
            .as_array()
            .map(|g| g.iter().map(s).collect())
            .unwrap_or_default();
        let ip = ev["sourceIPs"][0].as_str().unwrap_or("");
        let code = ev["responseStatus"]["code"]
            .as_u64()
            .unwrap_or(0)
            .to_string();
        let when = ev["requestReceivedTimestamp"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        exact(&self.workspace_filter, &ws)
            && sub(&self.workspace_search, &ws)
            && exact(&self.namespace_filter, &ns)
            && sub(&self.namespace_search, &ns)
            && exact(&self.name_filter, &name)
            && sub(&self.name_search, &name)
            && exact(&self.verb_filter, &s(&ev["verb"]))
            && exact(&self.user_filter, &user)
            && sub(&self.user_search, &user)
            && (self.group_search.is_empty()
                || groups
                    .iter()
                    .any(|g| self.group_search.iter().any(|w| g.contains(w.as_str()))))
            && sub(&self.source_ip_search, ip)
            && exact(&self.resource_filter, &s(&ev["objectRef"]["resource"]))
            && exact(
                &self.subresource_filter,
                &s(&ev["objectRef"]["subresource"]),
            )
            && exact(&self.response_code_filter, &code)
            && self.start.is_none_or(|t| when.is_some_and(|w| w >= t))
            && self.end.is_none_or(|t| when.is_some_and(|w| w <= t))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use apimachinery::UserInfo;
    use http::Method;

    fn ev(user: &str, path: &str, method: Method, code: u16, at: i64) -> Value {
        let info = RequestInfo::parse(&method, path, "");
        let t = jiff::Timestamp::from_second(at).unwrap();
        event(
            "id",
            &info,
            path,
            Some(&UserInfo::new(user, vec!["g1".into()])),
            "10.0.0.1",
            "kubectl",
            code,
            t,
            t,
        )
    }

    async fn flush(log: &AuditLog, last: &str) {
        for _ in 0..500 {
            let (_, newest) = log.query(&q(&[("size", "1")]));
            if newest
                .first()
                .is_some_and(|e| e["objectRef"]["name"] == last)
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("audit events not written");
    }

    fn q(pairs: &[(&str, &str)]) -> AuditQuery {
        let v: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        AuditQuery::parse(&v).unwrap()
    }

    #[tokio::test]
    async fn writes_rotates_and_queries() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(
            dir.path(),
            Rotation {
                max_bytes: 1_500,
                keep: 3,
            },
        )
        .unwrap();
        for i in 0..20 {
            let user = if i % 2 == 0 { "alice" } else { "bob" };
            let path = format!(
                "/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws{}/namespaces/p{i}",
                i % 3
            );
            log.record(ev(
                user,
                &path,
                Method::DELETE,
                if i == 7 { 403 } else { 200 },
                1_000 + i,
            ));
        }
        flush(&log, "p19").await;
        // Rotation kept at most `keep` old files.
        assert!(dir.path().join("audit.log.1").exists());
        assert!(!dir.path().join("audit.log.4").exists());
        let (total, _) = log.query(&q(&[("size", "100")]));
        assert!((10..20).contains(&total), "total {total}");
        let (_, page) = log.query(&q(&[("user_filter", "bob"), ("size", "100")]));
        assert!(page.iter().all(|e| e["user"]["username"] == "bob"));
        let (n, page) = log.query(&q(&[("response_code_filter", "403")]));
        if n == 1 {
            assert_eq!(page[0]["objectRef"]["name"], "p7");
        }
        let (_, newest) = log.query(&q(&[("size", "1")]));
        assert_eq!(newest[0]["objectRef"]["name"], "p19");
        let (_, oldest) = log.query(&q(&[
            ("size", "1"),
            ("sort", "asc"),
            ("start_time", "1015"),
        ]));
        assert_eq!(oldest[0]["objectRef"]["name"], "p15");
        let (n, _) = log.query(&q(&[
            ("workspace_filter", "ws1"),
            ("verb_filter", "delete"),
            ("start_time", "1010"),
        ]));
        assert_eq!(n, 4); // ws1 is i % 3 == 1: p10, p13, p16, p19
    }

    #[test]
    fn bad_parameters_are_errors() {
        let v = vec![("start_time".to_string(), "yesterday".to_string())];
        assert!(AuditQuery::parse(&v).unwrap_err().contains("start_time"));
    }
}
