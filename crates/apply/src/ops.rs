//! The two writes that change ownership: server-side apply and every other (update) write.

use serde_json::{Map, Value, json};

use crate::compare::compare;
use crate::fieldset::{FieldSet, FieldSetError};
use crate::managers::{Manager, Operation, cap_update_managers, set_managers, sort_managers};
use crate::merge::{merge, remove_items};
use crate::path::{PathElement, path_string};
use crate::schema::Schema;

/// Who writes, through which subresource, and when.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The field manager name.
    pub manager: &'a str,
    /// The subresource written (`status`, `scale`), empty for the main resource.
    pub subresource: &'a str,
    /// The current time, RFC 3339 in UTC with second precision (`2026-11-26T05:10:05Z`).
    pub now: &'a str,
    /// Paths whose changes nobody gains or loses through this endpoint, because the
    /// endpoint resets them (Kubernetes' reset fields: `.status` on the main resource,
    /// everything but `.status` on `/status`). Everything below a path is covered.
    pub ignored: Option<&'a FieldSet>,
}

impl Actor<'_> {
    fn filter(&self, set: FieldSet) -> FieldSet {
        match self.ignored {
            Some(ignored) => set.without_prefixes(ignored),
            None => set,
        }
    }
}

/// One field another manager owns that an apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The owner, as conflict messages name it (`"kubectl" using apps/v1`).
    pub manager: String,
    /// The owner's identity, the order of conflict messages.
    pub manager_identity: String,
    /// The contested path.
    pub path: Vec<PathElement>,
}

/// Why a write cannot be done.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApplyError {
    /// Fields owned by other managers would change; apply with force to take them.
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The object or the configuration is not valid for the schema (list keys, duplicates).
    #[error("{0}")]
    Invalid(#[from] FieldSetError),
    /// An applied configuration must not carry managedFields.
    #[error("metadata.managedFields must be nil")]
    ManagedFieldsInConfig,
    /// The configuration is not an object.
    #[error("the applied configuration must be an object")]
    NotAnObject,
}

impl ApplyError {
    /// The Kubernetes `Status` for this error: 409 Conflict for conflicts, 400 otherwise.
    pub fn to_status(&self) -> Value {
        let (code, reason, details) = match self {
            ApplyError::Conflicts(conflicts) => {
                let causes: Vec<Value> = conflicts
                    .iter()
                    .map(|c| {
                        json!({
                            "reason": "FieldManagerConflict",
                            "message": format!("conflict with {}", c.manager),
                            "field": path_string(&c.path),
                        })
                    })
                    .collect();
                (409, "Conflict", Some(json!({ "causes": causes })))
            }
            // The apiserver rejects configurations it cannot type (missing list keys,
            // duplicate items) as bad requests.
            ApplyError::Invalid(_)
            | ApplyError::ManagedFieldsInConfig
            | ApplyError::NotAnObject => (400, "BadRequest", None),
        };
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": reason,
        });
        if let (Some(d), Some(obj)) = (details, status.as_object_mut()) {
            obj.insert("details".into(), d);
        }
        if let Some(obj) = status.as_object_mut() {
            obj.insert("code".into(), code.into());
        }
        status
    }
}

/// Kubernetes' message: one conflict inline, several grouped by manager in identity order.
fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager,
            path_string(&c.path)
        );
    }
    let mut sorted: Vec<&Conflict> = conflicts.iter().collect();
    sorted.sort_by(|a, b| a.manager_identity.cmp(&b.manager_identity));
    let mut lines = Vec::new();
    let mut last: Option<&str> = None;
    for c in sorted {
        if last != Some(c.manager_identity.as_str()) {
            lines.push(format!("conflicts with {}:", c.manager));
            last = Some(c.manager_identity.as_str());
        }
        lines.push(format!("- {}", path_string(&c.path)));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// The result of a write.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The new object, `metadata.managedFields` already written.
    pub object: Value,
    /// The new managedFields.
    pub managers: Vec<Manager>,
    /// False when the object (managedFields aside) is unchanged, so the write may be skipped
    /// unless `managers` differ from the stored ones.
    pub changed: bool,
}

/// Fields the apiserver never records ownership of (its strip-meta manager).
fn stripped_fields() -> FieldSet {
    let mut set = FieldSet::new();
    let f = |s: &str| PathElement::Field(s.to_string());
    set.insert(&[f("apiVersion")]);
    set.insert(&[f("kind")]);
    set.insert(&[f("metadata")]);
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        set.insert(&[f("metadata"), f(name)]);
    }
    set
}

fn without_managed_fields(object: &Value) -> Value {
    let mut out = object.clone();
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    out
}

fn api_version_of(object: &Value) -> String {
    object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Strips unowned meta fields from every manager, drops the empty ones, sorts the rest.
fn finish(mut managers: Vec<Manager>) -> Vec<Manager> {
    let strip = stripped_fields();
    for m in &mut managers {
        m.fields = m.fields.difference(&strip);
    }
    managers.retain(|m| !m.fields.is_empty());
    cap_update_managers(&mut managers);
    sort_managers(&mut managers);
    managers
}

/// Server-side apply of `config` by `actor` onto `live` (`None` to create).
///
/// Merges the configuration into the live object, removes what this manager applied before
/// and no longer applies unless another manager owns it, and fails with
/// [`ApplyError::Conflicts`] when a field owned by another manager would change, unless
/// `force`, in which case the other managers lose those fields.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    actor: &Actor<'_>,
    force: bool,
    schema: &dyn Schema,
    managed: &[Manager],
) -> Result<Applied, ApplyError> {
    if !config.is_object() {
        return Err(ApplyError::NotAnObject);
    }
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApplyError::ManagedFieldsInConfig);
    }
    let live = live.map_or_else(|| Value::Object(Map::new()), without_managed_fields);
    let config_set = actor.filter(FieldSet::from_value(config, schema)?);
    let merged = merge(Some(&live), Some(config), schema, &mut Vec::new())?
        .unwrap_or_else(|| Value::Object(Map::new()));

    let me = Manager {
        name: actor.manager.to_string(),
        operation: Operation::Apply,
        api_version: api_version_of(config),
        time: None,
        fields: config_set,
        subresource: actor.subresource.to_string(),
    };
    let mut managers: Vec<Manager> = managed.to_vec();
    let last = match managers.iter().position(|m| m.same_identity(&me)) {
        Some(i) => {
            let previous = std::mem::replace(&mut managers[i], me.clone());
            managers[i].time = previous.time;
            previous.fields
        }
        None => {
            managers.push(me.clone());
            FieldSet::new()
        }
    };

    let merged = if last.is_empty() {
        merged
    } else {
        // The stripped meta fields count as owned so pruning never takes `.metadata` whole.
        let owned = managers
            .iter()
            .fold(stripped_fields(), |acc, m| acc.union(&m.fields));
        let prune = last
            .ensure_named_fields_are_members(schema)
            .difference(&owned.ensure_named_fields_are_members(schema));
        remove_items(&merged, &prune, schema, &mut Vec::new())
            .unwrap_or_else(|| Value::Object(Map::new()))
    };

    let cmp = compare(&live, &merged, schema)?;
    let changed_paths = actor.filter(cmp.modified.union(&cmp.added));
    let removed = actor.filter(cmp.removed);
    let mut conflicts = Vec::new();
    for m in managers.iter_mut().filter(|m| !m.same_identity(&me)) {
        let contested = m.fields.intersection(&changed_paths);
        if !contested.is_empty() {
            for path in contested.paths() {
                conflicts.push(Conflict {
                    manager: m.display_name(),
                    manager_identity: m.identity(),
                    path,
                });
            }
            m.fields = m.fields.difference(&contested);
        }
        m.fields = m.fields.difference(&removed);
    }
    if !force && !conflicts.is_empty() {
        conflicts.sort_by(|a, b| a.manager_identity.cmp(&b.manager_identity));
        return Err(ApplyError::Conflicts(conflicts));
    }

    let changed = merged != live;
    if changed {
        for m in managers.iter_mut().filter(|m| m.same_identity(&me)) {
            m.time = Some(actor.now.to_string());
        }
    }
    let managers = finish(managers);
    let mut object = merged;
    set_managers(&mut object, &managers);
    Ok(Applied {
        object,
        managers,
        changed,
    })
}

/// The managedFields after a non-apply write (create, update, patch) of `new` over `old` by
/// `actor`: it gains what it added or modified, every other manager loses what changed or was
/// removed. Updates never conflict. Pass `{}` as `old` on create.
pub fn update(
    old: &Value,
    new: &Value,
    actor: &Actor<'_>,
    schema: &dyn Schema,
    managed: &[Manager],
) -> Result<Vec<Manager>, ApplyError> {
    // compare() skips metadata.managedFields, so the objects are compared as they are.
    let cmp = compare(old, new, schema)?;
    let gained = actor.filter(
        cmp.modified
            .union(&cmp.added)
            .difference(&stripped_fields()),
    );
    let removed = actor.filter(cmp.removed);
    let mut managers: Vec<Manager> = managed.to_vec();
    for m in &mut managers {
        m.fields = m.fields.difference(&gained).difference(&removed);
    }
    if !gained.is_empty() {
        let me = Manager {
            name: actor.manager.to_string(),
            operation: Operation::Update,
            api_version: api_version_of(new),
            time: Some(actor.now.to_string()),
            fields: gained.clone(),
            subresource: actor.subresource.to_string(),
        };
        match managers.iter_mut().find(|m| m.same_identity(&me)) {
            Some(existing) => {
                existing.fields = existing.fields.union(&gained);
                existing.time = me.time;
            }
            None => managers.push(me),
        }
    }
    Ok(finish(managers))
}
