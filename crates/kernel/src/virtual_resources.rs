//! Resources the kernel answers without storing them: access reviews (asked of
//! the authorizer), TokenReview and SelfSubjectReview, Binding, and the
//! deprecated ComponentStatus.

use crate::authz::{Attributes, Decision};
use crate::registry::Virtual;
use crate::request::Verb;
use crate::response::{ApiError, ApiResult, Wanted, json_value};
use crate::server::Ctx;
use apimachinery::{StatusError, UserInfo};
use bytes::Bytes;
use serde_json::{Value, json};

pub async fn handle(ctx: &Ctx, v: Virtual, wanted: Wanted, body: Bytes) -> ApiResult {
    match (v, ctx.req.verb) {
        (Virtual::ComponentStatuses, Verb::Get) => {
            let name = ctx.req.name.clone().unwrap_or_default();
            let item = component_statuses(ctx)
                .into_iter()
                .find(|c| c["metadata"]["name"] == name)
                .ok_or_else(|| {
                    ApiError::from(StatusError::not_found("componentstatuses", "", &name))
                })?;
            let mut item = item;
            item["kind"] = json!("ComponentStatus");
            item["apiVersion"] = json!("v1");
            if wanted == Wanted::Table {
                return Ok(json_value(
                    200,
                    &crate::table::table(ctx, &[item], "", None),
                ));
            }
            Ok(json_value(200, &item))
        }
        (Virtual::ComponentStatuses, Verb::List) => {
            let items = component_statuses(ctx);
            if wanted == Wanted::Table {
                return Ok(json_value(200, &crate::table::table(ctx, &items, "", None)));
            }
            Ok(json_value(
                200,
                &json!({"kind": "ComponentStatusList", "apiVersion": "v1", "metadata": {}, "items": items}),
            ))
        }
        (_, Verb::Create) if ctx.req.subresource.is_none() => {
            let ct = ctx
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("application/json");
            let mut obj = crate::decode::parse_any(ct, &body, &ctx.resource.kind)?;
            crate::decode::check_type_meta(&ctx.resource, &mut obj)?;
            match v {
                Virtual::Bindings => crate::binding::bind(ctx, &obj).await,
                Virtual::SelfSubjectReviews => Ok(self_subject_review(&ctx.user, &ctx.req.version)),
                Virtual::TokenReviews => {
                    let token = obj
                        .pointer("/spec/token")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let mut audiences: Vec<String> = obj
                        .pointer("/spec/audiences")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    if audiences.is_empty() {
                        audiences.push(crate::tokens::ISSUER.to_string());
                    }
                    obj["status"] = match ctx.inner.authenticate_token(&token, &audiences) {
                        Some(u) => json!({
                            "authenticated": true,
                            "user": {"username": u.name, "uid": u.uid, "groups": u.groups},
                            "audiences": audiences,
                        }),
                        None => json!({"authenticated": false, "error": "invalid bearer token"}),
                    };
                    Ok(json_value(201, &echo(obj)))
                }
                Virtual::SelfSubjectAccessReviews => {
                    let status = review(ctx, &ctx.user, &obj, None)?;
                    obj["status"] = status;
                    Ok(json_value(201, &echo(obj)))
                }
                Virtual::SubjectAccessReviews | Virtual::LocalSubjectAccessReviews => {
                    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
                    let strings = |k: &str| -> Vec<String> {
                        spec.get(k)
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|x| x.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default()
                    };
                    let mut subject = UserInfo::new(
                        spec.get("user").and_then(Value::as_str).unwrap_or(""),
                        strings("groups"),
                    );
                    subject.uid = spec
                        .get("uid")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    if let Some(extra) = spec.get("extra").and_then(Value::as_object) {
                        for (k, vals) in extra {
                            let vals = vals
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|x| x.as_str().map(String::from))
                                        .collect()
                                })
                                .unwrap_or_default();
                            subject.extra.insert(k.clone(), vals);
                        }
                    }
                    if subject.name.is_empty() && subject.groups.is_empty() {
                        let errs =
                            apimachinery::ErrorList(vec![apimachinery::FieldError::invalid(
                                apimachinery::Path::new("spec").child("user"),
                                "",
                                "at least one of user or group must be specified",
                            )]);
                        return Err(ApiError::from(StatusError::invalid(
                            &ctx.resource.kind,
                            &ctx.resource.group,
                            "",
                            &errs,
                        )));
                    }
                    let ns = if v == Virtual::LocalSubjectAccessReviews {
                        ctx.namespace()
                    } else {
                        None
                    };
                    let status = review(ctx, &subject, &obj, ns)?;
                    obj["status"] = status;
                    Ok(json_value(201, &echo(obj)))
                }
                Virtual::SelfSubjectRulesReviews => {
                    let ns = obj
                        .pointer("/spec/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let (resource_rules, non_resource_rules, incomplete) =
                        ctx.inner.rules_for(&ctx.user, &ns);
                    obj["status"] = json!({
                        "resourceRules": resource_rules,
                        "nonResourceRules": non_resource_rules,
                        "incomplete": incomplete,
                    });
                    Ok(json_value(201, &echo(obj)))
                }
                Virtual::ComponentStatuses => {
                    Err(ApiError::from(StatusError::method_not_allowed()))
                }
            }
        }
        _ => Err(ApiError::from(StatusError::method_not_allowed())),
    }
}

/// Reviews come back with the spec they were sent and no stored metadata.
fn echo(mut obj: Value) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.insert("metadata".into(), json!({}));
    }
    obj
}

/// Answers an access review's `spec.resourceAttributes` or `spec.nonResourceAttributes` for `user`.
fn review(
    ctx: &Ctx,
    user: &UserInfo,
    obj: &Value,
    namespace: Option<&str>,
) -> Result<Value, ApiError> {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let attrs = if let Some(ra) = spec.get("resourceAttributes") {
        let ns = s(ra, "namespace");
        if let Some(url_ns) = namespace
            && !ns.is_empty()
            && ns != url_ns
        {
            let errs = apimachinery::ErrorList(vec![apimachinery::FieldError::invalid(
                apimachinery::Path::new("spec")
                    .child("resourceAttributes")
                    .child("namespace"),
                ns.clone(),
                "must match metadata.namespace",
            )]);
            return Err(ApiError::from(StatusError::invalid(
                &ctx.resource.kind,
                &ctx.resource.group,
                "",
                &errs,
            )));
        }
        Attributes {
            verb: s(ra, "verb"),
            group: s(ra, "group"),
            version: s(ra, "version"),
            resource: s(ra, "resource"),
            subresource: s(ra, "subresource"),
            namespace: namespace.map(String::from).unwrap_or(ns),
            name: s(ra, "name"),
            path: None,
        }
    } else if let Some(nr) = spec.get("nonResourceAttributes") {
        Attributes {
            verb: s(nr, "verb"),
            path: Some(s(nr, "path")),
            ..Default::default()
        }
    } else {
        let errs = apimachinery::ErrorList(vec![apimachinery::FieldError::required(
            apimachinery::Path::new("spec").child("resourceAttributes"),
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )]);
        return Err(ApiError::from(StatusError::invalid(
            &ctx.resource.kind,
            &ctx.resource.group,
            "",
            &errs,
        )));
    };
    Ok(match ctx.inner.authorize(user, &attrs) {
        Decision::Allow => json!({"allowed": true}),
        Decision::Deny(reason) if reason.is_empty() => json!({"allowed": false}),
        Decision::Deny(reason) => json!({"allowed": false, "reason": reason}),
    })
}

/// `kubectl auth whoami`: who the server thinks the caller is.
pub fn self_subject_review(user: &UserInfo, version: &str) -> axum::response::Response {
    let mut info = json!({"username": user.name, "groups": user.groups});
    if !user.uid.is_empty() {
        info["uid"] = json!(user.uid);
    }
    if !user.extra.is_empty() {
        info["extra"] = json!(user.extra);
    }
    json_value(
        201,
        &json!({
            "kind": "SelfSubjectReview",
            "apiVersion": format!("authentication.k8s.io/{version}"),
            "metadata": {},
            "status": {"userInfo": info},
        }),
    )
}

/// The components this kernel runs, as the deprecated ComponentStatus API shows
/// them: the store (kube's `etcd-0`), and the controllers.
fn component_statuses(ctx: &Ctx) -> Vec<Value> {
    let store_ok = ctx.inner.store.stats().commits > 0 || ctx.inner.store.revision() > 0;
    let cond = |healthy: bool, message: &str| json!([{"type": "Healthy", "status": if healthy { "True" } else { "False" }, "message": message}]);
    vec![
        json!({"metadata": {"name": "controller-manager"}, "conditions": cond(true, "ok: garbage collector, namespace and CRD controllers run in the kernel")}),
        json!({"metadata": {"name": "etcd-0"}, "conditions": cond(store_ok, &format!("ok: sqlite store at revision {}", ctx.inner.store.revision()))}),
        json!({"metadata": {"name": "scheduler"}, "conditions": cond(false, "no scheduler runs in this kernel yet")}),
    ]
}

/// `POST serviceaccounts/{name}/token`: a TokenRequest for a signed token bound to
/// the ServiceAccount's uid.
pub async fn token_request(ctx: &Ctx, body: Bytes) -> ApiResult {
    let ct = ctx
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("application/json");
    let mut req = crate::decode::parse_any(ct, &body, "TokenRequest")?;
    if !req.is_object() {
        return Err(ApiError::from(StatusError::bad_request(
            "error decoding TokenRequest: expected an object",
        )));
    }
    if !req.get("spec").is_some_and(Value::is_object) {
        req["spec"] = json!({});
    }
    let ns = ctx.namespace().unwrap_or_default().to_string();
    let name = ctx.req.name.clone().unwrap_or_default();
    let sa_res = ctx.inner.resource("", "v1", "serviceaccounts")?;
    let sa = ctx
        .inner
        .cache
        .get(&sa_res.key(&ns, &name))
        .ok_or_else(|| ApiError::from(StatusError::not_found("serviceaccounts", "", &name)))?;
    let sa_uid = crate::meta::uid(&sa.value()).unwrap_or("").to_string();
    let expiration = req
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    if expiration < 600 {
        let errs = apimachinery::ErrorList(vec![apimachinery::FieldError::invalid(
            apimachinery::Path::new("spec").child("expirationSeconds"),
            expiration,
            "may not specify a duration less than 10 minutes",
        )]);
        return Err(ApiError::from(StatusError::invalid(
            "TokenRequest",
            "authentication.k8s.io",
            &name,
            &errs,
        )));
    }
    if expiration > 1 << 32 {
        let errs = apimachinery::ErrorList(vec![apimachinery::FieldError::invalid(
            apimachinery::Path::new("spec").child("expirationSeconds"),
            expiration,
            "may not specify a duration larger than 2^32 seconds",
        )]);
        return Err(ApiError::from(StatusError::invalid(
            "TokenRequest",
            "authentication.k8s.io",
            &name,
            &errs,
        )));
    }
    let mut audiences: Vec<String> = req
        .pointer("/spec/audiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if audiences.is_empty() {
        audiences.push(crate::tokens::ISSUER.to_string());
    }
    let now = jiff::Timestamp::now().as_second();
    let mut claims = crate::tokens::claims(&ns, &name, &sa_uid, &audiences, now, expiration);
    if let Some(r) = req
        .pointer("/spec/boundObjectRef")
        .filter(|r| r.is_object())
    {
        let bound = crate::tokens::resolve_bound_object(&name, r, |plural, n| {
            let res = ctx.inner.registry.get("", "v1", plural)?;
            ctx.inner.cache.get(&res.key(&ns, n)).map(|o| o.value())
        })?;
        crate::tokens::bind_claims(&mut claims, &bound);
        req["spec"]["boundObjectRef"]["uid"] = json!(bound.uid);
    }
    let token = ctx
        .inner
        .signer
        .sign(&claims)
        .ok_or_else(|| ApiError::from(StatusError::internal("signing the token failed")))?;
    let expires = jiff::Timestamp::from_second(now + expiration)
        .map(crate::meta::timestamp)
        .unwrap_or_default();
    req["kind"] = json!("TokenRequest");
    req["apiVersion"] = json!("authentication.k8s.io/v1");
    req["metadata"] =
        json!({"name": name, "namespace": ns, "creationTimestamp": crate::meta::now()});
    req["spec"]["audiences"] = json!(audiences);
    req["spec"]["expirationSeconds"] = json!(expiration);
    req["status"] = json!({"token": token, "expirationTimestamp": expires});
    Ok(json_value(201, &req))
}
