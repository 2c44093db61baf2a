//! Tenancy and authorization for the platform: workspaces, projects, KubeSphere's four-level roles and bindings, their controllers and the scope authorizer, with KubeSphere's iam and tenant APIs.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod kinds;
pub mod names;

pub use kinds::crds;
pub mod authz;
pub mod bootstrap;
pub mod children;
pub mod controllers;

pub use authz::Authorizer;
pub use controllers::run_controllers;
pub mod api;
pub mod escalation;

pub use api::{State, router};
pub mod matrix;
