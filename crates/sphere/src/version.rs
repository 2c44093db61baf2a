//! What `sphere version` prints: our version, the commit it was built from, and the
//! Kubernetes version the kernel serves.

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit the binary was built from, when `build.rs` could find one.
pub const GIT_COMMIT: Option<&str> = option_env!("SPHERE_GIT_COMMIT");
/// The Kubernetes API version the embedded kernel implements.
pub const KUBERNETES_VERSION: &str = "v1.36";

/// The text of `sphere version`.
pub fn render() -> String {
    format!(
        "sphere {VERSION}\ngit commit: {}\nkubernetes: {KUBERNETES_VERSION}\n",
        GIT_COMMIT.unwrap_or("unknown")
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn names_the_kubernetes_version() {
        let text = super::render();
        assert!(text.starts_with(&format!("sphere {}\n", super::VERSION)));
        assert!(text.contains("kubernetes: v1.36\n"));
    }
}
