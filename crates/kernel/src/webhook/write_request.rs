//! What the write paths hand to admission webhooks: the request's options object
//! and the admission view of a create or update.

use super::{Operation, Request};
use crate::registry::Resource;
use crate::server::Ctx;
use crate::write::WriteOptions;
use serde_json::{Value, json};

/// The options object admission webhooks are sent with the request.
pub fn options_for(ctx: &Ctx, dry_run: bool) -> Value {
    let kind = match ctx.req.verb {
        crate::request::Verb::Patch => "PatchOptions",
        crate::request::Verb::Update => "UpdateOptions",
        _ => "CreateOptions",
    };
    let mut o = json!({"kind": kind, "apiVersion": "meta.k8s.io/v1"});
    if dry_run {
        o["dryRun"] = json!(["All"]);
    }
    if let Some(fm) = ctx.q("fieldManager") {
        o["fieldManager"] = Value::String(fm.to_string());
    }
    if kind == "PatchOptions" && ctx.q("force") == Some("true") {
        o["force"] = Value::Bool(true);
    }
    o
}

/// The admission webhooks' view of a create or update (`old` set).
pub fn write_request<'a>(
    res: &'a Resource,
    namespace: Option<&'a str>,
    name: &'a str,
    subresource: Option<&'a str>,
    old: Option<&'a Value>,
    opts: &'a WriteOptions,
    options: &Value,
) -> Request<'a> {
    Request {
        res,
        operation: if old.is_some() {
            Operation::Update
        } else {
            Operation::Create
        },
        subresource: subresource.unwrap_or(""),
        namespace: namespace.unwrap_or(""),
        name,
        old_object: old,
        user: &opts.user,
        dry_run: opts.dry_run,
        options: Some(options.clone()),
    }
}
