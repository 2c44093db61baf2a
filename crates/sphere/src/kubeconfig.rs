//! Writing kubeconfig files: the admin kubeconfig of the data dir, and the same shape
//! for any user with a client certificate.

use crate::fsutil::write_atomic;
use crate::pki::CertKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// File name of the admin kubeconfig inside the data dir.
pub const ADMIN_KUBECONFIG: &str = "admin.kubeconfig";
/// Cluster and context name in every kubeconfig sphere writes.
pub const CLUSTER_NAME: &str = "ferrosphere";
/// User name of the admin entry.
pub const ADMIN_ENTRY: &str = "admin";

/// One cluster, one user, one context, selected as current.
#[derive(Debug, Clone, Copy)]
pub struct Kubeconfig<'a> {
    /// Cluster and context name.
    pub cluster: &'a str,
    /// `https://host:port`.
    pub server: &'a str,
    /// PEM of the CA that signed the serving certificate.
    pub ca_pem: &'a str,
    /// Name of the user entry.
    pub user: &'a str,
    /// The user's client certificate and key.
    pub client: &'a CertKey,
}

impl Kubeconfig<'_> {
    /// The kubeconfig as YAML. Every scalar is a JSON string, which YAML reads
    /// verbatim, so no name can break the document.
    pub fn render(&self) -> String {
        let q = |s: &str| serde_json::Value::from(s).to_string();
        let b64 = |s: &str| q(&STANDARD.encode(s));
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: {cluster}\n  \
             cluster:\n    \
             server: {server}\n    \
             certificate-authority-data: {ca}\n\
             users:\n\
             - name: {user}\n  \
             user:\n    \
             client-certificate-data: {cert}\n    \
             client-key-data: {key}\n\
             contexts:\n\
             - name: {cluster}\n  \
             context:\n    \
             cluster: {cluster}\n    \
             user: {user}\n\
             current-context: {cluster}\n\
             preferences: {{}}\n",
            cluster = q(self.cluster),
            server = q(self.server),
            ca = b64(self.ca_pem),
            user = q(self.user),
            cert = b64(&self.client.cert_pem),
            key = b64(&self.client.key_pem),
        )
    }

    /// Writes the kubeconfig to `path` atomically with mode 0600 (it holds a key).
    pub fn write(&self, path: &Path) -> io::Result<()> {
        write_atomic(path, self.render().as_bytes(), 0o600)
    }
}

/// The address clients should dial for a server bound to `bound`: a wildcard bind is
/// reached through loopback of the same family.
pub fn dial_addr(bound: SocketAddr) -> SocketAddr {
    let ip = match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bound.port())
}

/// `https://host:port`, with IPv6 hosts in brackets.
pub fn server_url(addr: SocketAddr) -> String {
    format!("https://{addr}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn renders_a_kubeconfig_kubectl_reads() {
        let client = CertKey {
            cert_pem: "CERT".into(),
            key_pem: "KEY".into(),
        };
        let text = Kubeconfig {
            cluster: CLUSTER_NAME,
            server: "https://[::1]:6443",
            ca_pem: "CA",
            user: ADMIN_ENTRY,
            client: &client,
        }
        .render();
        let doc: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(doc["current-context"], "ferrosphere");
        assert_eq!(doc["clusters"][0]["name"], "ferrosphere");
        assert_eq!(
            doc["clusters"][0]["cluster"]["server"],
            "https://[::1]:6443"
        );
        assert_eq!(
            doc["clusters"][0]["cluster"]["certificate-authority-data"],
            STANDARD.encode("CA")
        );
        assert_eq!(doc["users"][0]["name"], "admin");
        assert_eq!(
            doc["users"][0]["user"]["client-key-data"],
            STANDARD.encode("KEY")
        );
        assert_eq!(doc["contexts"][0]["context"]["cluster"], "ferrosphere");
        assert_eq!(doc["contexts"][0]["context"]["user"], "admin");
    }

    #[test]
    fn wildcard_binds_are_dialled_on_loopback() {
        let v4: SocketAddr = "0.0.0.0:6443".parse().unwrap();
        let v6: SocketAddr = "[::]:6443".parse().unwrap();
        let fixed: SocketAddr = "10.0.0.5:1".parse().unwrap();
        assert_eq!(server_url(dial_addr(v4)), "https://127.0.0.1:6443");
        assert_eq!(server_url(dial_addr(v6)), "https://[::1]:6443");
        assert_eq!(dial_addr(fixed), fixed);
    }
}
