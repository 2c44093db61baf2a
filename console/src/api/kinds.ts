// The kinds the console manages: where each lives in /api or /apis and in the resources API.

export interface Kind {
  /** The plural resource name, also the resources.kubesphere.io/v1alpha3 name. */
  plural: string;
  kind: string;
  group: string;
  version: string;
  namespaced: boolean;
  /** Values of the resources API `status` filter for this kind, if it has one. */
  statuses?: string[];
  /** Has a `scale` subresource. */
  scalable?: boolean;
}

export const KINDS = {
  deployments: { plural: 'deployments', kind: 'Deployment', group: 'apps', version: 'v1', namespaced: true, statuses: ['running', 'updating', 'stopped'], scalable: true },
  statefulsets: { plural: 'statefulsets', kind: 'StatefulSet', group: 'apps', version: 'v1', namespaced: true, statuses: ['running', 'updating', 'stopped'], scalable: true },
  daemonsets: { plural: 'daemonsets', kind: 'DaemonSet', group: 'apps', version: 'v1', namespaced: true },
  jobs: { plural: 'jobs', kind: 'Job', group: 'batch', version: 'v1', namespaced: true, statuses: ['running', 'completed', 'failed'] },
  cronjobs: { plural: 'cronjobs', kind: 'CronJob', group: 'batch', version: 'v1', namespaced: true },
  pods: { plural: 'pods', kind: 'Pod', group: '', version: 'v1', namespaced: true },
  services: { plural: 'services', kind: 'Service', group: '', version: 'v1', namespaced: true },
  configmaps: { plural: 'configmaps', kind: 'ConfigMap', group: '', version: 'v1', namespaced: true },
  secrets: { plural: 'secrets', kind: 'Secret', group: '', version: 'v1', namespaced: true },
  persistentvolumeclaims: { plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', group: '', version: 'v1', namespaced: true },
  nodes: { plural: 'nodes', kind: 'Node', group: '', version: 'v1', namespaced: false, statuses: ['running', 'warning', 'unschedulable'] },
  namespaces: { plural: 'namespaces', kind: 'Namespace', group: '', version: 'v1', namespaced: false },
  customresourcedefinitions: { plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', group: 'apiextensions.k8s.io', version: 'v1', namespaced: false },
} as const satisfies Record<string, Kind>;

export type KindName = keyof typeof KINDS;

export const WORKLOAD_KINDS: KindName[] = ['deployments', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'pods'];

/** The Kubernetes REST path of a collection or an object. */
export function k8sPath(kind: Kind, namespace?: string, name?: string, subresource?: string): string {
  const root = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  const ns = kind.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const obj = name ? `/${encodeURIComponent(name)}` : '';
  const sub = name && subresource ? `/${subresource}` : '';
  return `${root}${ns}/${kind.plural}${obj}${sub}`;
}

/** The resources API path of a list (`/kapis/resources.kubesphere.io/v1alpha3/namespaces/{ns}/deployments`). */
export function resourcesPath(plural: string, namespace?: string): string {
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `/kapis/resources.kubesphere.io/v1alpha3${ns}/${plural}`;
}

/** apiVersion string for a kind. */
export function apiVersionOf(kind: Kind): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}
