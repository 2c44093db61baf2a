//! Records the git commit the binary is built from as `SPHERE_GIT_COMMIT`, unless the
//! environment already provides it (release builds from a tarball).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SPHERE_GIT_COMMIT");
    if std::env::var_os("SPHERE_GIT_COMMIT").is_some() {
        return;
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8(out.stdout).ok()?;
        Some(text.trim().to_owned()).filter(|s| !s.is_empty())
    };
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        // HEAD moves on checkout; logs/HEAD changes on every commit, so both together
        // re-run this script whenever the commit changes.
        for file in ["HEAD", "logs/HEAD"] {
            let path = std::path::Path::new(&git_dir).join(file);
            // A missing path would make cargo re-run the script on every build.
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    if let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) {
        println!("cargo:rustc-env=SPHERE_GIT_COMMIT={commit}");
    }
}
