//! Black-box tests of the `sphere` binary: data dir, files and modes, kubectl with the
//! admin kubeconfig, the data dir lock, restarts and SIGTERM.

// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn first_start_writes_private_files_and_kubectl_can_use_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let sphere = Sphere::start(&dir);

    assert!(
        sphere
            .ready_line
            .starts_with("ferrosphere kernel listening on https://127.0.0.1:"),
        "{}",
        sphere.ready_line
    );
    assert!(sphere.ready_line.contains(" ms)"), "{}", sphere.ready_line);
    assert_ne!(sphere.port, 0, "port 0 must be replaced by the bound port");
    let next: Vec<String> = (0..2)
        .map(|_| sphere.stdout.recv_timeout(Duration::from_secs(5)).unwrap())
        .collect();
    let kubeconfig = dir.join("admin.kubeconfig");
    assert_eq!(
        next[0],
        format!("admin kubeconfig: {}", kubeconfig.display())
    );
    assert_eq!(
        next[1],
        format!(
            "try: kubectl --kubeconfig {} get namespaces",
            kubeconfig.display()
        )
    );

    assert_eq!(mode(&dir), 0o700);
    for private in [
        "ca.key",
        "serving.key",
        "admin.key",
        "admin.kubeconfig",
        "sphere.lock",
    ] {
        assert_eq!(mode(&dir.join(private)), 0o600, "{private}");
    }
    for public in ["ca.crt", "serving.crt", "admin.crt"] {
        assert!(dir.join(public).is_file(), "{public}");
    }
    let lock = fs::read_to_string(dir.join("sphere.lock")).unwrap();
    assert_eq!(lock.trim(), sphere.pid().to_string());

    let text = String::from_utf8(read(kubeconfig.clone())).unwrap();
    assert!(
        text.contains(&format!("server: \"{}\"", sphere.url)),
        "kubeconfig must name the bound port:\n{text}"
    );

    let out = kubectl(&dir, &["get", "--raw", "/healthz"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");

    let out = kubectl(&dir, &["auth", "whoami", "-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let review: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(review["status"]["userInfo"]["username"], "kubernetes-admin");
    assert_eq!(
        review["status"]["userInfo"]["groups"],
        serde_json::json!(["system:masters", "system:authenticated"])
    );

    let (status, took) = sphere.terminate();
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    for kept in ["ca.crt", "ca.key", "admin.kubeconfig", "sphere.lock"] {
        assert!(dir.join(kept).exists(), "{kept} removed on shutdown");
    }
}

#[test]
fn a_second_instance_on_the_same_dir_fails_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let first = Sphere::start(tmp.path());
    let out = Command::new(SPHERE)
        .args(["kernel", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: another sphere is already running with data dir {} (pid {}); stop it first or use --data-dir",
            tmp.path().display(),
            first.pid()
        )
    );
    let out = kubectl(tmp.path(), &["get", "--raw", "/healthz"]);
    assert!(out.status.success(), "the first instance must keep serving");
}

#[test]
fn restart_reuses_the_ca_and_certificates() {
    let tmp = tempfile::tempdir().unwrap();
    let first = Sphere::start(tmp.path());
    let ca = read(tmp.path().join("ca.crt"));
    let serving = read(tmp.path().join("serving.crt"));
    let admin = read(tmp.path().join("admin.crt"));
    assert_eq!(first.terminate().0.code(), Some(0));

    let second = Sphere::start(tmp.path());
    assert_eq!(read(tmp.path().join("ca.crt")), ca);
    assert_eq!(read(tmp.path().join("serving.crt")), serving);
    assert_eq!(read(tmp.path().join("admin.crt")), admin);
    let out = kubectl(tmp.path(), &["get", "--raw", "/healthz"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(second.terminate().0.code(), Some(0));
}

#[test]
fn the_default_data_dir_follows_xdg_data_home() {
    let tmp = tempfile::tempdir().unwrap();
    let mut command = Command::new(SPHERE);
    command
        .args(["kernel", "--listen", "127.0.0.1:0"])
        .env("XDG_DATA_HOME", tmp.path());
    let sphere = Sphere::spawn(command);
    let kubeconfig = tmp.path().join("ferrosphere/admin.kubeconfig");
    assert_eq!(mode(&kubeconfig), 0o600);
    assert_eq!(mode(&tmp.path().join("ferrosphere")), 0o700);
    assert_eq!(sphere.terminate().0.code(), Some(0));
}

#[test]
fn sigint_also_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sphere = Sphere::start_with(tmp.path(), &["up", "--listen", "127.0.0.1:0"]);
    assert!(sphere.ready_line.starts_with("ferrosphere listening on"));
    signal(sphere.pid(), "INT");
    let status = wait_timeout(&mut sphere.child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", sphere.stderr_text());
}

#[test]
fn an_unusable_data_dir_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain-file");
    fs::write(&file, b"").unwrap();
    let dir = file.join("data");
    let out = Command::new(SPHERE)
        .args(["kernel", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: cannot create data dir {}: ",
            dir.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--data-dir"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(SPHERE)
        .args(["kernel", "--listen", &addr, "--data-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {addr}: ")),
        "{stderr}"
    );
}

#[test]
fn version_names_the_kubernetes_version() {
    let out = Command::new(SPHERE).arg("version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("sphere "), "{text}");
    assert!(text.contains("git commit: "), "{text}");
    assert!(text.contains("kubernetes: v1.36"), "{text}");
}
