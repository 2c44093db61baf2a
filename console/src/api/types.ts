// The shapes of Kubernetes and KubeSphere objects the console reads.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  generation?: number;
}

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown> & object;
  status?: Record<string, unknown> & object;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
}

/** A KubeSphere list: `{items, totalItems}`. */
export interface ListResult<T = K8sObject> {
  items: T[];
  totalItems: number;
}

/** A Kubernetes list: `{items, metadata: {continue}}`. */
export interface K8sList<T = K8sObject> {
  items: T[];
  metadata?: { continue?: string; resourceVersion?: string; remainingItemCount?: number };
}

export interface User extends K8sObject {
  spec?: { email?: string; lang?: string; description?: string; displayName?: string; groups?: string[]; password?: string };
  status?: { state?: 'Active' | 'Disabled' | 'AuthLimitExceeded' | string; reason?: string; lastTransitionTime?: string; lastLoginTime?: string };
}

export interface Member {
  username: string;
  roleRef: string;
}

/** Where roles live: the platform (GlobalRoles), a workspace (WorkspaceRoles) or a project (Roles). */
export type RoleLevel = { scope: 'global' } | { scope: 'workspace'; workspace: string } | { scope: 'namespace'; namespace: string };

export const ANNOTATIONS = {
  alias: 'kubesphere.io/alias-name',
  description: 'kubesphere.io/description',
  creator: 'kubesphere.io/creator',
  globalRole: 'iam.kubesphere.io/globalrole',
  uninitialized: 'iam.kubesphere.io/uninitialized',
  restartedAt: 'kubectl.kubernetes.io/restartedAt',
  workspaceRole: 'iam.kubesphere.io/workspacerole',
  role: 'iam.kubesphere.io/role',
  aggregationRoles: 'iam.kubesphere.io/aggregation-roles',
} as const;

export const WORKSPACE_LABEL = 'kubesphere.io/workspace';

/** Turn an API list (KubeSphere or Kubernetes shape, or a bare array) into `{items,totalItems}`. */
export function normalizeList<T>(body: unknown): ListResult<T> {
  if (Array.isArray(body)) return { items: body as T[], totalItems: body.length };
  if (typeof body === 'object' && body !== null) {
    const b = body as { items?: unknown; totalItems?: unknown; total_count?: unknown };
    const items = Array.isArray(b.items) ? (b.items as T[]) : [];
    const total = typeof b.totalItems === 'number' ? b.totalItems : typeof b.total_count === 'number' ? b.total_count : items.length;
    return { items, totalItems: total };
  }
  return { items: [], totalItems: 0 };
}
