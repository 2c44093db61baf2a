//! Tenancy and authorization for the platform: workspaces, projects, KubeSphere's four-level roles and bindings, their controllers and the scope authorizer, with KubeSphere's iam and tenant APIs.
