// Summaries of workload objects for lists: replicas, status word and images.

import type { K8sObject } from '../api/types';

interface Counts {
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  desiredNumberScheduled?: number;
  numberReady?: number;
  succeeded?: number;
  failed?: number;
  active?: number;
}

/** `ready/desired` and a status word matching the resources API's `status` filter values. */
export function workloadSummary(kind: string, obj: K8sObject): { ready: string; status: string } {
  const spec = (obj.spec ?? {}) as { replicas?: number; suspend?: boolean; completions?: number };
  const s = (obj.status ?? {}) as Counts;
  switch (kind) {
    case 'deployments':
    case 'statefulsets': {
      const desired = spec.replicas ?? 1;
      const ready = s.readyReplicas ?? 0;
      const status = desired === 0 ? 'stopped' : ready >= desired && (s.updatedReplicas ?? desired) >= desired ? 'running' : 'updating';
      return { ready: `${ready}/${desired}`, status };
    }
    case 'daemonsets': {
      const desired = s.desiredNumberScheduled ?? 0;
      const ready = s.numberReady ?? 0;
      return { ready: `${ready}/${desired}`, status: ready >= desired ? 'running' : 'updating' };
    }
    case 'jobs': {
      const status = (s.failed ?? 0) > 0 && !s.active ? 'failed' : (s.succeeded ?? 0) >= (spec.completions ?? 1) ? 'completed' : 'running';
      return { ready: `${s.succeeded ?? 0}/${spec.completions ?? 1}`, status };
    }
    case 'cronjobs':
      return { ready: String((obj.spec as { schedule?: string } | undefined)?.schedule ?? ''), status: spec.suspend ? 'stopped' : 'running' };
    case 'pods': {
      const ps = (obj.status ?? {}) as { phase?: string; containerStatuses?: { ready?: boolean }[] };
      const cs = ps.containerStatuses ?? [];
      return { ready: `${cs.filter((c) => c.ready).length}/${cs.length}`, status: ps.phase ?? '-' };
    }
    default:
      return { ready: '-', status: '-' };
  }
}

export function imagesOf(obj: K8sObject): string {
  const own = (obj.spec as { containers?: { image?: string }[] } | undefined)?.containers;
  if (own) return own.map((c) => c.image ?? '').join(', ');
  const spec = obj.spec as { template?: { spec?: { containers?: { image?: string }[] } }; jobTemplate?: { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } } } | undefined;
  const containers = spec?.template?.spec?.containers ?? spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];
  return containers.map((c) => c.image ?? '').join(', ');
}

/** A starting point for "create from YAML". */
export function yamlTemplate(kind: string, ns: string): string {
  const name = `my-${kind.replace(/s$/, '')}`;
  const pod = `    metadata:\n      labels:\n        app: ${name}\n    spec:\n      containers:\n        - name: main\n          image: nginx:1.27\n`;
  switch (kind) {
    case 'deployments':
    case 'statefulsets':
      return `apiVersion: apps/v1\nkind: ${kind === 'deployments' ? 'Deployment' : 'StatefulSet'}\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  replicas: 1\n${kind === 'statefulsets' ? `  serviceName: ${name}\n` : ''}  selector:\n    matchLabels:\n      app: ${name}\n  template:\n${pod}`;
    case 'daemonsets':
      return `apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  selector:\n    matchLabels:\n      app: ${name}\n  template:\n${pod}`;
    case 'jobs':
      return `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: busybox:1.36\n          command: ["sh", "-c", "echo hello"]\n`;
    case 'cronjobs':
      return `apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  schedule: "*/5 * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n            - name: main\n              image: busybox:1.36\n`;
    case 'pods':
      return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: my-pod\n  namespace: ${ns}\nspec:\n  containers:\n    - name: main\n      image: nginx:1.27\n`;
    case 'services':
      return `apiVersion: v1\nkind: Service\nmetadata:\n  name: my-service\n  namespace: ${ns}\nspec:\n  selector:\n    app: my-app\n  ports:\n    - port: 80\n      targetPort: 80\n`;
    case 'configmaps':
      return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: my-config\n  namespace: ${ns}\ndata:\n  key: value\n`;
    case 'secrets':
      return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: my-secret\n  namespace: ${ns}\ntype: Opaque\nstringData:\n  password: change-me\n`;
    case 'persistentvolumeclaims':
      return `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: my-volume\n  namespace: ${ns}\nspec:\n  accessModes: ["ReadWriteOnce"]\n  resources:\n    requests:\n      storage: 1Gi\n`;
    default:
      return `metadata:\n  name: \n  namespace: ${ns}\n`;
  }
}

interface Container {
  name?: string;
  image?: string;
  ports?: { containerPort?: number; protocol?: string; name?: string }[];
  env?: unknown[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { containers?: Container[]; initContainers?: Container[]; restartPolicy?: string };
}

/** The pod template of a workload (a CronJob's through its job template). */
export function podTemplateOf(obj: K8sObject): PodTemplate | undefined {
  const spec = obj.spec as { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } } | undefined;
  return spec?.template ?? spec?.jobTemplate?.spec?.template;
}

export interface ContainerRow {
  name: string;
  image: string;
  ports: string;
  resources: string;
  init: boolean;
}

/** One row per container of the pod template: ports as `80/TCP`, requests and limits as `cpu 100m / 200m`. */
export function containerRows(obj: K8sObject): ContainerRow[] {
  const t = podTemplateOf(obj)?.spec;
  const row = (c: Container, init: boolean): ContainerRow => {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    const keys = [...new Set([...Object.keys(req), ...Object.keys(lim)])].sort();
    return {
      name: c.name ?? '',
      image: c.image ?? '',
      ports: (c.ports ?? []).map((p) => `${p.containerPort ?? '?'}/${p.protocol ?? 'TCP'}`).join(', '),
      resources: keys.map((k) => `${k} ${req[k] ?? '-'} / ${lim[k] ?? '-'}`).join('; '),
      init,
    };
  };
  return [...(t?.initContainers ?? []).map((c) => row(c, true)), ...(t?.containers ?? []).map((c) => row(c, false))];
}

/** The facts of a workload's spec worth a line each: strategy, selector, schedule, restart policy. */
export function specFacts(kind: string, obj: K8sObject): [string, string][] {
  const spec = (obj.spec ?? {}) as {
    replicas?: number;
    strategy?: { type?: string };
    updateStrategy?: { type?: string };
    selector?: { matchLabels?: Record<string, string> };
    schedule?: string;
    suspend?: boolean;
    concurrencyPolicy?: string;
    completions?: number;
    parallelism?: number;
    backoffLimit?: number;
    serviceName?: string;
  };
  const out: [string, string][] = [];
  if (spec.replicas !== undefined) out.push(['replicas', String(spec.replicas)]);
  const strategy = spec.strategy?.type ?? spec.updateStrategy?.type;
  if (strategy) out.push(['strategy', strategy]);
  const sel = Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  if (sel.length) out.push(['selector', sel.join(', ')]);
  if (kind === 'statefulsets' && spec.serviceName) out.push(['serviceName', spec.serviceName]);
  if (kind === 'cronjobs') {
    out.push(['schedule', spec.schedule ?? '']);
    out.push(['suspend', String(spec.suspend ?? false)]);
    if (spec.concurrencyPolicy) out.push(['concurrencyPolicy', spec.concurrencyPolicy]);
  }
  if (kind === 'jobs') {
    out.push(['completions', String(spec.completions ?? 1)]);
    out.push(['parallelism', String(spec.parallelism ?? 1)]);
    if (spec.backoffLimit !== undefined) out.push(['backoffLimit', String(spec.backoffLimit)]);
  }
  const restartedAt = podTemplateOf(obj)?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
  if (restartedAt) out.push(['restartedAt', restartedAt]);
  return out;
}

/** A revision's number: a ReplicaSet's `deployment.kubernetes.io/revision` annotation, a ControllerRevision's `revision`. */
export function revisionOf(r: K8sObject): number | undefined {
  const v = r.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? (r as { revision?: number }).revision;
  const n = Number(v);
  return v === undefined || !Number.isFinite(n) ? undefined : n;
}
