//! Black-box conformance harness: a cluster to test against, kubectl and raw HTTPS helpers.
//!
//! Every scenario talks to the cluster the way a user does (kubectl, HTTPS with the admin
//! client certificate), so the same suite runs unchanged against `sphere up` and against
//! any real Kubernetes cluster named by `E2E_KUBECONFIG`.

mod cluster;
mod error;
mod golden;
mod json;
mod kubectl;
mod namespace;
mod raw;
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
pub use namespace::{Namespace, unique_name};
pub use raw::{RawClient, RawResponse, query_escape};
pub use table::{Table, parse_table};
pub use wait::wait_for;
