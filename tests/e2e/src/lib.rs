//! Black-box conformance harness: the cluster under test (E2E_KUBECONFIG or our own `sphere up`), kubectl and raw HTTPS helpers.

mod cluster;
mod error;
mod golden;
mod json;
mod kubectl;
mod namespace;
mod platform;
mod raw;
pub mod resources;
pub mod simnodes;
mod table;
mod wait;

pub use cluster::{Cluster, SphereProcess, sphere_binary};
pub use error::{Error, Result};
pub use golden::{golden_dir, golden_error, golden_json, golden_text};
pub use json::{at, json_diff, normalize_object, parse_json, strip_server_fields};
pub use kubectl::{
    Background, Output, expect_err_contains, expect_ok, kubectl, kubectl_env, kubectl_in,
    kubectl_stdin, kubectl_with,
};
pub use namespace::{Namespace, configmap_manifest, create_namespace, unique_name};
pub use platform::{
    CONSOLE_CLIENT, PlatformServer, eventually, initial_admin_password, json_str, jwt_claims,
    kubectl_with_token, logs_of, password_login, refresh_login,
};
pub use raw::{RawClient, RawResponse, query_escape};
pub use table::{Table, parse_table};
pub use wait::wait_for;
