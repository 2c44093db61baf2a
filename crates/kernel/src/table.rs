//! `meta.k8s.io/v1 Table` responses: what `kubectl get` prints, from the built-in
//! printers or a CRD's additionalPrinterColumns.

use crate::registry::{Resource, Source};
use crate::server::{Ctx, Inner};
use serde_json::{Value, json};
use std::sync::Arc;

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

pub fn table(ctx: &Ctx, objs: &[Value], rv: &str, cont: Option<&str>) -> Value {
    table_for(
        &ctx.inner,
        &ctx.resource,
        ctx.q("includeObject"),
        objs,
        rv,
        cont,
    )
}

pub fn table_for(
    _inner: &Arc<Inner>,
    res: &Resource,
    include: Option<&str>,
    objs: &[Value],
    rv: &str,
    cont: Option<&str>,
) -> Value {
    let now = jiff::Timestamp::now();
    let (columns, rows): (Vec<Value>, Vec<Vec<Value>>) = match &res.source {
        Source::Virtual(_) => {
            // Only ComponentStatus is listed; its printer shows the first condition.
            let cols = ["Name", "Status", "Message", "Error"]
                .iter()
                .map(|n| json!({"name": n, "type": "string", "format": if *n == "Name" { "name" } else { "" }, "description": "", "priority": 0}))
                .collect();
            let rows = objs
                .iter()
                .map(|o| {
                    let c = o.pointer("/conditions/0").cloned().unwrap_or(Value::Null);
                    let status = if c["status"] == "True" {
                        "Healthy"
                    } else {
                        "Unhealthy"
                    };
                    vec![
                        o.pointer("/metadata/name").cloned().unwrap_or(Value::Null),
                        json!(status),
                        c.get("message").cloned().unwrap_or(json!("")),
                        c.get("error").cloned().unwrap_or(json!("")),
                    ]
                })
                .collect();
            (cols, rows)
        }
        Source::Builtin(info) => {
            let cols = builtin::columns(info)
                .iter()
                .map(|c| json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority}))
                .collect();
            (
                cols,
                objs.iter().map(|o| builtin::row(info, o, now)).collect(),
            )
        }
        Source::Custom(c) => {
            let mut cols = vec![
                json!({"name": "Name", "type": "string", "format": "name", "description": NAME_DESCRIPTION, "priority": 0}),
            ];
            let default_age = c.printer_columns.is_empty();
            for p in &c.printer_columns {
                let desc = if p.description.is_empty() {
                    format!(
                        "Custom resource definition column (in JSONPath format): {}",
                        p.json_path
                    )
                } else {
                    p.description.clone()
                };
                cols.push(json!({"name": p.name, "type": p.type_, "format": p.format, "description": desc, "priority": p.priority}));
            }
            if default_age {
                cols.push(json!({"name": "Age", "type": "date", "format": "", "description": AGE_DESCRIPTION, "priority": 0}));
            }
            let rows = objs
                .iter()
                .map(|o| {
                    let mut cells =
                        vec![o.pointer("/metadata/name").cloned().unwrap_or(Value::Null)];
                    for p in &c.printer_columns {
                        let cell = structural::printer_cell(&p.json_path, &p.type_, o);
                        cells.push(if p.type_ == "date" {
                            age_cell(&cell, now)
                        } else {
                            cell
                        });
                    }
                    if default_age {
                        cells.push(age_cell(
                            o.pointer("/metadata/creationTimestamp")
                                .unwrap_or(&Value::Null),
                            now,
                        ));
                    }
                    cells
                })
                .collect();
            (cols, rows)
        }
    };
    let rows: Vec<Value> = objs
        .iter()
        .zip(rows)
        .map(|(o, cells)| {
            let mut row = json!({"cells": cells});
            match include {
                Some("None") => {}
                Some("Object") => row["object"] = o.clone(),
                _ => row["object"] = crate::read::partial_metadata(o),
            }
            row
        })
        .collect();
    let mut meta = json!({"resourceVersion": rv});
    if let Some(c) = cont {
        meta["continue"] = Value::String(c.to_string());
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": columns, "rows": rows})
}

/// A timestamp cell shown as an age (`5m`), as kube-apiserver's printers do.
fn age_cell(v: &Value, now: jiff::Timestamp) -> Value {
    match v.as_str().and_then(|s| s.parse::<jiff::Timestamp>().ok()) {
        Some(t) => Value::String(builtin::human_duration(now.duration_since(t))),
        None => Value::String("<unknown>".into()),
    }
}
