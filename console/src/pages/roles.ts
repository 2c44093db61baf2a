// Roles composed of role templates: which are built in, which templates a role holds, and the object the role form writes.

import type { Lang } from '../i18n';
import { ANNOTATIONS, WORKSPACE_LABEL, type K8sObject, type RoleLevel } from '../api/types';

/** A GlobalRole, WorkspaceRole or project Role as the iam API returns it. */
export interface RoleObject extends K8sObject {
  aggregationRoleTemplates?: { templateNames?: string[] };
  rules?: unknown[];
}

const BUILTIN_GLOBAL = ['platform-admin', 'platform-regular', 'platform-self-provisioner', 'authenticated', 'anonymous', 'pre-registration', 'ks-console'];
const BUILTIN_WORKSPACE = ['admin', 'regular', 'viewer', 'self-provisioner'];
const BUILTIN_PROJECT = ['admin', 'operator', 'viewer'];

/** KubeSphere's built-in roles, which the console shows but never edits or deletes. */
export function isBuiltinRole(at: RoleLevel, name: string): boolean {
  switch (at.scope) {
    case 'global':
      return BUILTIN_GLOBAL.includes(name);
    case 'workspace':
      return BUILTIN_WORKSPACE.some((r) => name === `${at.workspace}-${r}`);
    case 'namespace':
      return BUILTIN_PROJECT.includes(name);
  }
}

/**
 * The templates a role is composed of: `aggregationRoleTemplates.templateNames` (GlobalRole,
 * WorkspaceRole) or the `iam.kubesphere.io/aggregation-roles` annotation (a JSON list; the only
 * place a Kubernetes Role can carry them).
 */
export function templatesOfRole(role: RoleObject): string[] {
  const named = role.aggregationRoleTemplates?.templateNames;
  if (named?.length) return [...named];
  const raw = role.metadata.annotations?.[ANNOTATIONS.aggregationRoles];
  if (!raw) return [];
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** The name a role is stored under: a custom workspace role is `<workspace>-<name>`, as in KubeSphere. */
export function storedRoleName(at: RoleLevel, name: string): string {
  return at.scope === 'workspace' && !name.startsWith(`${at.workspace}-`) ? `${at.workspace}-${name}` : name;
}

/** The name shown for a role: a workspace role without its workspace prefix. */
export function shownRoleName(at: RoleLevel, name: string): string {
  return at.scope === 'workspace' && name.startsWith(`${at.workspace}-`) ? name.slice(at.workspace.length + 1) : name;
}

export interface RoleForm {
  name: string;
  description: string;
  templates: string[];
}

/**
 * The object the role form creates or replaces. The templates go both in
 * `aggregationRoleTemplates.templateNames`, from which the iam API writes the rules (as KubeSphere's
 * aggregation controller does), and in the `aggregation-roles` annotation, which survives on a
 * Kubernetes Role. `rules` is emptied so that the templates alone decide what the role grants.
 */
export function roleFromForm(at: RoleLevel, form: RoleForm, existing?: RoleObject): RoleObject {
  const templates = [...new Set(form.templates)].sort();
  const name = existing?.metadata.name ?? storedRoleName(at, form.name.trim());
  const annotations: Record<string, string> = { ...existing?.metadata.annotations, [ANNOTATIONS.aggregationRoles]: JSON.stringify(templates) };
  if (form.description.trim()) annotations[ANNOTATIONS.description] = form.description.trim();
  else delete annotations[ANNOTATIONS.description];
  const labels: Record<string, string> = { ...existing?.metadata.labels };
  if (at.scope === 'workspace') labels[WORKSPACE_LABEL] = at.workspace;
  const base = {
    global: { apiVersion: 'iam.kubesphere.io/v1beta1', kind: 'GlobalRole' },
    workspace: { apiVersion: 'iam.kubesphere.io/v1beta1', kind: 'WorkspaceRole' },
    namespace: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  }[at.scope];
  return {
    ...base,
    metadata: {
      ...(existing?.metadata ?? {}),
      name,
      ...(at.scope === 'namespace' ? { namespace: at.namespace } : {}),
      ...(Object.keys(labels).length ? { labels } : {}),
      annotations,
    },
    aggregationRoleTemplates: { templateNames: templates },
    rules: [],
  };
}

/**
 * Ticking a template: a `manage` template needs its `view` template (KubeSphere's console adds it
 * too), and unticking a `view` template drops the `manage` one that depends on it.
 */
export function toggleTemplate(selected: readonly string[], name: string, on: boolean, available: readonly string[]): string[] {
  const set = new Set(selected);
  if (on) {
    set.add(name);
    const view = name.replace('-manage-', '-view-');
    if (view !== name && available.includes(view)) set.add(view);
  } else {
    set.delete(name);
    const manage = name.replace('-view-', '-manage-');
    if (manage !== name) set.delete(manage);
  }
  return available.filter((t) => set.has(t));
}

export interface TemplateGroup {
  category: string;
  templates: { name: string; label: string }[];
}

/** Templates grouped by their `iam.kubesphere.io/category` label, labelled in the chosen language. */
export function groupTemplates(templates: K8sObject[], lang: Lang): TemplateGroup[] {
  const groups = new Map<string, TemplateGroup>();
  for (const t of templates) {
    const category = t.metadata.labels?.['iam.kubesphere.io/category'] ?? 'other';
    const names = (t.spec as { displayName?: Record<string, string> } | undefined)?.displayName ?? {};
    const label = names[lang] ?? names.en ?? t.metadata.name;
    let g = groups.get(category);
    if (!g) {
      g = { category, templates: [] };
      groups.set(category, g);
    }
    g.templates.push({ name: t.metadata.name, label });
  }
  return [...groups.values()].sort((a, b) => a.category.localeCompare(b.category));
}

/** "access-control" → "Access control". */
export function humanize(category: string): string {
  const s = category.replace(/-/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
