// Permission-driven menus: which entries a user sees, computed from the role templates they hold.

import type { ApiClient } from './client';

export type Scope = 'global' | 'cluster' | 'workspace' | 'namespace';

export interface MenuEntry {
  key: string;
  /** Path relative to the scope's root. */
  path: string;
  /** Role templates of which any one shows the entry; empty means everyone. */
  requires: string[];
}

/** `*-manage-x` includes `*-view-x`, as in KubeSphere's aggregated roles. */
export function holds(templates: ReadonlySet<string>, name: string): boolean {
  if (templates.has(name)) return true;
  const manage = name.replace('-view-', '-manage-');
  return manage !== name && templates.has(manage);
}

export function visible(entries: MenuEntry[], templates: ReadonlySet<string>): MenuEntry[] {
  return entries.filter((e) => e.requires.length === 0 || e.requires.some((r) => holds(templates, r)));
}

export const PLATFORM_MENU: MenuEntry[] = [
  { key: 'overview', path: '/overview', requires: [] },
  { key: 'workspaces', path: '/workspaces', requires: [] },
  { key: 'users', path: '/users', requires: ['global-view-users'] },
  { key: 'platformRoles', path: '/roles', requires: ['global-view-roles'] },
  { key: 'cluster', path: '/cluster/nodes', requires: ['global-view-clusters', 'cluster-view-nodes', 'cluster-view-projects', 'cluster-view-crds'] },
];

export const CLUSTER_MENU: MenuEntry[] = [
  { key: 'nodes', path: 'nodes', requires: ['cluster-view-nodes', 'global-view-clusters'] },
  { key: 'namespaces', path: 'namespaces', requires: ['cluster-view-projects', 'global-view-clusters'] },
  { key: 'crds', path: 'crds', requires: ['cluster-view-crds', 'global-view-clusters'] },
];

export const WORKSPACE_MENU: MenuEntry[] = [
  { key: 'overview', path: '', requires: [] },
  { key: 'projects', path: 'projects', requires: ['workspace-view-projects', 'workspace-create-projects'] },
  { key: 'members', path: 'members', requires: ['workspace-view-members'] },
  { key: 'workspaceRoles', path: 'roles', requires: ['workspace-view-roles'] },
];

export const PROJECT_MENU: MenuEntry[] = [
  { key: 'workloads', path: 'workloads/deployments', requires: ['namespace-view-app-workloads'] },
  { key: 'services', path: 'services', requires: ['namespace-view-services'] },
  { key: 'configmaps', path: 'configmaps', requires: ['namespace-view-configmaps'] },
  { key: 'secrets', path: 'secrets', requires: ['namespace-view-secrets'] },
  { key: 'persistentvolumeclaims', path: 'persistentvolumeclaims', requires: ['namespace-view-persistentvolumeclaims'] },
  { key: 'members', path: 'members', requires: ['namespace-view-members'] },
  { key: 'projectRoles', path: 'roles', requires: ['namespace-view-roles'] },
];

/**
 * A platform administrator manages every workspace and project. KubeSphere returns every template
 * to them at each scope; this keeps the console right when a server answers only the global scope.
 */
export function withPlatformGrants(scope: Scope, own: string[], global: ReadonlySet<string>, all: Record<Scope, string[]>): Set<string> {
  const set = new Set(own);
  const admin = scope === 'workspace' || scope === 'namespace' ? global.has('global-manage-workspaces') : scope === 'cluster' ? global.has('global-manage-clusters') : false;
  if (admin) for (const t of all[scope]) set.add(t);
  return set;
}

export const ALL_TEMPLATES: Record<Scope, string[]> = {
  global: ['global-view-users', 'global-manage-users', 'global-view-workspaces', 'global-manage-workspaces', 'global-create-workspaces', 'global-view-roles', 'global-manage-roles', 'global-view-clusters', 'global-manage-clusters'],
  cluster: ['cluster-view-nodes', 'cluster-manage-nodes', 'cluster-view-projects', 'cluster-manage-projects', 'cluster-view-crds', 'cluster-manage-crds', 'cluster-view-members', 'cluster-manage-members'],
  workspace: ['workspace-view-projects', 'workspace-manage-projects', 'workspace-create-projects', 'workspace-view-members', 'workspace-manage-members', 'workspace-view-roles', 'workspace-manage-roles', 'workspace-view-settings', 'workspace-manage-settings'],
  namespace: [
    'namespace-view-app-workloads', 'namespace-manage-app-workloads', 'namespace-view-services', 'namespace-manage-services', 'namespace-view-configmaps', 'namespace-manage-configmaps',
    'namespace-view-secrets', 'namespace-manage-secrets', 'namespace-view-persistentvolumeclaims', 'namespace-manage-persistentvolumeclaims', 'namespace-view-members',
    'namespace-manage-members', 'namespace-view-roles', 'namespace-manage-roles', 'namespace-view-project-settings', 'namespace-manage-project-settings',
  ],
};

export interface AccessCheck {
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  subresource?: string;
  name?: string;
}

/** Asks Kubernetes whether the caller may do something (SelfSubjectAccessReview). */
export async function accessReview(api: ApiClient, check: AccessCheck): Promise<boolean> {
  const res = await api.post<{ status?: { allowed?: boolean } }>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { verb: check.verb, resource: check.resource, group: check.group ?? '', namespace: check.namespace, subresource: check.subresource, name: check.name } },
  });
  return res?.status?.allowed === true;
}
