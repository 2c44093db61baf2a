// Typed calls to the platform APIs (/kapis iam, tenant and resources) and to Kubernetes.

import type { ApiClient } from './client';
import { KINDS, apiVersionOf, k8sPath, resourcesPath, type Kind } from './kinds';
import { toParams, type ListQuery } from './query';
import { ANNOTATIONS, WORKSPACE_LABEL, normalizeList, type K8sObject, type ListResult, type Member, type RoleLevel, type User } from './types';

const IAM = '/kapis/iam.kubesphere.io/v1beta1';
const TENANT = '/kapis/tenant.kubesphere.io/v1beta1';

const enc = encodeURIComponent;

export class Platform {
  constructor(readonly api: ApiClient) {}

  async list<T = K8sObject>(path: string, q: ListQuery, signal?: AbortSignal): Promise<ListResult<T>> {
    return normalizeList<T>(await this.api.get<unknown>(path, toParams(q), signal));
  }

  /** Only the total of a list (one item fetched). */
  async count(path: string): Promise<number> {
    return (await this.list(path, { page: 1, limit: 1 })).totalItems;
  }

  // --- users -------------------------------------------------------------------------------
  users(q: ListQuery, signal?: AbortSignal) {
    return this.list<User>(`${IAM}/users`, q, signal);
  }
  user(name: string) {
    return this.api.get<User>(`${IAM}/users/${enc(name)}`);
  }
  createUser(u: { name: string; email: string; password: string; description?: string; globalRole?: string }) {
    const annotations: Record<string, string> = {};
    if (u.globalRole) annotations[ANNOTATIONS.globalRole] = u.globalRole;
    if (u.description) annotations[ANNOTATIONS.description] = u.description;
    return this.api.post<User>(`${IAM}/users`, {
      apiVersion: 'iam.kubesphere.io/v1beta1',
      kind: 'User',
      metadata: { name: u.name, annotations },
      spec: { email: u.email, password: u.password, description: u.description },
    });
  }
  updateUser(user: User) {
    return this.api.put<User>(`${IAM}/users/${enc(user.metadata.name)}`, user);
  }
  deleteUser(name: string) {
    return this.api.delete(`${IAM}/users/${enc(name)}`);
  }
  changePassword(name: string, password: string, currentPassword?: string) {
    return this.api.put(`${IAM}/users/${enc(name)}/password`, currentPassword === undefined ? { password } : { currentPassword, password });
  }
  globalRoles(q: ListQuery) {
    return this.list(`${IAM}/globalroles`, q);
  }

  /** The role templates the user holds at a scope; the console's menus are computed from them. */
  async roleTemplates(user: string, scope: 'global' | 'cluster' | 'workspace' | 'namespace', where?: { workspace?: string; namespace?: string }): Promise<string[]> {
    const body = await this.api.get<unknown>(`${IAM}/users/${enc(user)}/roletemplates`, { scope, workspace: where?.workspace, namespace: where?.namespace });
    return normalizeList<K8sObject>(body).items.map((t) => t.metadata?.name).filter((n): n is string => typeof n === 'string');
  }

  // --- workspaces ----------------------------------------------------------------------------
  /** The WorkspaceTemplates the caller may see: what the console creates, so a new workspace is
   * listed at once (the Workspace itself is made by a controller a moment later), as in KubeSphere v4. */
  workspaces(q: ListQuery, signal?: AbortSignal) {
    return this.list(`${TENANT}/workspacetemplates`, q, signal);
  }
  workspace(name: string) {
    return this.api.get<K8sObject>(`${TENANT}/workspaces/${enc(name)}`);
  }
  createWorkspace(w: { name: string; manager: string; alias?: string; description?: string }) {
    const annotations: Record<string, string> = {};
    if (w.alias) annotations[ANNOTATIONS.alias] = w.alias;
    if (w.description) annotations[ANNOTATIONS.description] = w.description;
    return this.api.post<K8sObject>(`${TENANT}/workspacetemplates`, {
      apiVersion: 'tenant.kubesphere.io/v1beta1',
      kind: 'WorkspaceTemplate',
      metadata: { name: w.name, annotations },
      spec: { template: { spec: { manager: w.manager } }, placement: {} },
    });
  }
  deleteWorkspace(name: string) {
    return this.api.delete(`${TENANT}/workspacetemplates/${enc(name)}`);
  }
  workspaceMembers(ws: string, q: ListQuery, signal?: AbortSignal) {
    return this.list<User>(`${IAM}/workspaces/${enc(ws)}/workspacemembers`, q, signal);
  }
  addWorkspaceMembers(ws: string, members: Member[]) {
    return this.api.post(`${IAM}/workspaces/${enc(ws)}/workspacemembers`, members);
  }
  /** Gives a member another workspace role (KubeSphere: PUT with `{username, roleRef}`). */
  updateWorkspaceMember(ws: string, member: Member) {
    return this.api.put<Member>(`${IAM}/workspaces/${enc(ws)}/workspacemembers/${enc(member.username)}`, member);
  }
  removeWorkspaceMember(ws: string, user: string) {
    return this.api.delete(`${IAM}/workspaces/${enc(ws)}/workspacemembers/${enc(user)}`);
  }
  workspaceRoles(ws: string, q: ListQuery, signal?: AbortSignal) {
    return this.list(`${IAM}/workspaces/${enc(ws)}/workspaceroles`, q, signal);
  }

  // --- projects -------------------------------------------------------------------------------
  projects(q: ListQuery, workspace?: string, signal?: AbortSignal) {
    return this.list(workspace ? `${TENANT}/workspaces/${enc(workspace)}/namespaces` : `${TENANT}/namespaces`, q, signal);
  }
  createProject(ws: string, p: { name: string; alias?: string; description?: string; creator: string }) {
    const annotations: Record<string, string> = { [ANNOTATIONS.creator]: p.creator };
    if (p.alias) annotations[ANNOTATIONS.alias] = p.alias;
    if (p.description) annotations[ANNOTATIONS.description] = p.description;
    return this.api.post<K8sObject>(`${TENANT}/workspaces/${enc(ws)}/namespaces`, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: p.name, labels: { [WORKSPACE_LABEL]: ws }, annotations },
    });
  }
  deleteProject(ws: string, name: string) {
    return this.api.delete(`${TENANT}/workspaces/${enc(ws)}/namespaces/${enc(name)}`);
  }
  projectMembers(ns: string, q: ListQuery, signal?: AbortSignal) {
    return this.list<User>(`${IAM}/namespaces/${enc(ns)}/namespacemembers`, q, signal);
  }
  addProjectMembers(ns: string, members: Member[]) {
    return this.api.post(`${IAM}/namespaces/${enc(ns)}/namespacemembers`, members);
  }
  /** Gives a member another project role (KubeSphere: PUT with `{username, roleRef}`). */
  updateProjectMember(ns: string, member: Member) {
    return this.api.put<Member>(`${IAM}/namespaces/${enc(ns)}/namespacemembers/${enc(member.username)}`, member);
  }
  removeProjectMember(ns: string, user: string) {
    return this.api.delete(`${IAM}/namespaces/${enc(ns)}/namespacemembers/${enc(user)}`);
  }
  projectRoles(ns: string, q: ListQuery, signal?: AbortSignal) {
    return this.list(`${IAM}/namespaces/${enc(ns)}/roles`, q, signal);
  }

  // --- roles (platform, workspace, project) ----------------------------------------------------
  /** The collection path of the roles at a level. */
  static rolesPath(at: RoleLevel): string {
    switch (at.scope) {
      case 'global':
        return `${IAM}/globalroles`;
      case 'workspace':
        return `${IAM}/workspaces/${enc(at.workspace)}/workspaceroles`;
      case 'namespace':
        return `${IAM}/namespaces/${enc(at.namespace)}/roles`;
    }
  }
  roles(at: RoleLevel, q: ListQuery, signal?: AbortSignal) {
    return this.list(Platform.rolesPath(at), q, signal);
  }
  role(at: RoleLevel, name: string) {
    return this.api.get<K8sObject>(`${Platform.rolesPath(at)}/${enc(name)}`);
  }
  createRole(at: RoleLevel, role: K8sObject) {
    return this.api.post<K8sObject>(Platform.rolesPath(at), role);
  }
  updateRole(at: RoleLevel, role: K8sObject) {
    return this.api.put<K8sObject>(`${Platform.rolesPath(at)}/${enc(role.metadata.name)}`, role);
  }
  deleteRole(at: RoleLevel, name: string) {
    return this.api.delete(`${Platform.rolesPath(at)}/${enc(name)}`);
  }
  /** The role templates (whole objects, for their display names) the user holds at a scope. */
  async roleTemplateObjects(user: string, at: RoleLevel, signal?: AbortSignal): Promise<K8sObject[]> {
    const where = at.scope === 'workspace' ? { workspace: at.workspace } : at.scope === 'namespace' ? { namespace: at.namespace } : {};
    const body = await this.api.get<unknown>(`${IAM}/users/${enc(user)}/roletemplates`, { scope: at.scope, ...where }, signal);
    const held = normalizeList<K8sObject>(body).items;
    if (held.length) return held;
    // A platform administrator may be answered only at the global scope: read the templates themselves.
    const all = await this.api
      .get<unknown>('/apis/iam.kubesphere.io/v1beta1/roletemplates', { labelSelector: `iam.kubesphere.io/scope=${at.scope}` }, signal)
      .catch(() => undefined);
    return normalizeList<K8sObject>(all).items;
  }

  // --- Kubernetes objects ------------------------------------------------------------------------
  resources(plural: string, q: ListQuery, namespace?: string, signal?: AbortSignal) {
    return this.list(resourcesPath(plural, namespace), q, signal);
  }
  get(kind: Kind, name: string, namespace?: string) {
    return this.api.get<K8sObject>(k8sPath(kind, namespace, name));
  }
  create(kind: Kind, obj: K8sObject, namespace?: string, dryRun = false) {
    return this.api.post<K8sObject>(k8sPath(kind, namespace), { apiVersion: apiVersionOf(kind), kind: kind.kind, ...obj }, dryRun ? { dryRun: 'All' } : undefined);
  }
  replace(kind: Kind, obj: K8sObject, dryRun = false) {
    return this.api.put<K8sObject>(k8sPath(kind, obj.metadata.namespace, obj.metadata.name), obj, dryRun ? { dryRun: 'All' } : undefined);
  }
  remove(kind: Kind, name: string, namespace?: string) {
    return this.api.delete(k8sPath(kind, namespace, name), { propagationPolicy: 'Background' });
  }
  /** Sets spec.replicas through the scale subresource. */
  scale(kind: Kind, name: string, namespace: string, replicas: number) {
    return this.api.patch(k8sPath(kind, namespace, name, 'scale'), { spec: { replicas } });
  }
  /** What `kubectl rollout restart` does: a new pod-template annotation rolls every pod. */
  restart(kind: Kind, name: string, namespace: string, at: Date = new Date()) {
    return this.api.patch(k8sPath(kind, namespace, name), { spec: { template: { metadata: { annotations: { [ANNOTATIONS.restartedAt]: at.toISOString() } } } } });
  }
  /** One revision of a Deployment (its ReplicaSet) or StatefulSet/DaemonSet (its ControllerRevision), through the resources API. */
  revision(namespace: string, workload: 'deployments' | 'statefulsets' | 'daemonsets', name: string, revision: number) {
    return this.api.get<K8sObject>(`/kapis/resources.kubesphere.io/v1alpha2/namespaces/${enc(namespace)}/${workload}/${enc(name)}/revisions/${revision}`);
  }
  events(namespace: string, involved: { name: string; uid?: string }) {
    const fieldSelector = [`involvedObject.name=${involved.name}`, involved.uid ? `involvedObject.uid=${involved.uid}` : ''].filter(Boolean).join(',');
    return this.api.get<{ items: K8sObject[] }>(k8sPath(KINDS.pods, namespace).replace('/pods', '/events'), { fieldSelector, limit: 100 });
  }
  pods(namespace: string, labelSelector: string, limit = 100) {
    return this.api.get<{ items: K8sObject[] }>(k8sPath(KINDS.pods, namespace), { labelSelector, limit });
  }
  /** A label selector string from `spec.selector.matchLabels`. */
  static selectorOf(obj: K8sObject): string {
    const sel = (obj.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels ?? {};
    return Object.entries(sel)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }
}
