//! A throwaway OpenLDAP `slapd` for tests: temp config and database, loaded from an LDIF, on free ports.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const SUFFIX: &str = "dc=example,dc=org";
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=org";
pub const ROOT_PW: &str = "admin-secret";

/// TLS material for a slapd that also listens on ldaps.
pub struct Tls {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A running slapd, killed when dropped.
pub struct Slapd {
    child: Child,
    pub port: u16,
    pub tls_port: Option<u16>,
    _dir: tempfile::TempDir,
}

fn find_binary(name: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` not found: the LDAP tests need OpenLDAP's server. Install it with \
                 `DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils`"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16, child: &mut Child) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("slapd exited at start with {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("slapd did not listen on port {port} within 10 s");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

impl Slapd {
    /// Starts slapd with the base entry plus `ldif` loaded, optionally with TLS.
    ///
    /// `allow bind_anon_dn` makes the server accept a bind with a DN and an empty password
    /// as anonymous, as many servers do: the empty-password test then proves that the
    /// provider refuses it itself.
    pub fn start(ldif: &str, tls: Option<&Tls>) -> Slapd {
        let slapd = find_binary("slapd");
        let slapadd = find_binary("slapadd");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("data")).unwrap();
        let mut conf = String::new();
        for schema in ["core", "cosine", "inetorgperson", "nis"] {
            conf.push_str(&format!("include /etc/ldap/schema/{schema}.schema\n"));
        }
        conf.push_str(&format!(
            "pidfile {d}/slapd.pid\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\nallow bind_anon_dn\n",
            d = d.display()
        ));
        if let Some(tls) = tls {
            let ca = write(d, "ca.pem", &tls.ca_pem);
            let cert = write(d, "server.pem", &tls.cert_pem);
            let key = write(d, "server-key.pem", &tls.key_pem);
            conf.push_str(&format!(
                "TLSCACertificateFile {}\nTLSCertificateFile {}\nTLSCertificateKeyFile {}\n",
                ca.display(),
                cert.display(),
                key.display()
            ));
        }
        conf.push_str(&format!(
            "database mdb\nmaxsize 10485760\nsuffix \"{SUFFIX}\"\nrootdn \"{ROOT_DN}\"\nrootpw {ROOT_PW}\ndirectory {}/data\n",
            d.display()
        ));
        let conf_path = write(d, "slapd.conf", &conf);
        let base = format!(
            "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n"
        );
        let ldif_path = write(d, "data.ldif", &format!("{base}{ldif}"));
        let out = Command::new(&slapadd)
            .arg("-f")
            .arg(&conf_path)
            .arg("-l")
            .arg(&ldif_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "slapadd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let tls_port = tls.map(|_| free_port());
        let mut urls = format!("ldap://127.0.0.1:{port}/");
        if let Some(p) = tls_port {
            urls.push_str(&format!(" ldaps://127.0.0.1:{p}/"));
        }
        // -d keeps slapd in the foreground so that it is our child and dies with the test.
        let mut child = Command::new(&slapd)
            .arg("-h")
            .arg(&urls)
            .arg("-f")
            .arg(&conf_path)
            .arg("-d")
            .arg("0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_listening(port, &mut child);
        if let Some(p) = tls_port {
            wait_listening(p, &mut child);
        }
        Slapd {
            child,
            port,
            tls_port,
            _dir: dir,
        }
    }

    /// Kills the server now (for "server down" tests).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}
