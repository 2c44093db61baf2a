import { describe, expect, it } from 'vitest';
import {
  configMapFromForm,
  configMapProblems,
  decodeBase64,
  encodeBase64,
  entryProblems,
  isClean,
  pvcFromForm,
  pvcProblems,
  secretEntries,
  secretFromForm,
  secretProblems,
  serviceFromForm,
  serviceProblems,
  sizeProblem,
} from './resourceForms';
import { stateAfterUpdate } from './forms';
import { containerRows, revisionOf, specFacts } from './workloadStatus';

describe('secret encoding', () => {
  it('encodes UTF-8 text as base64 and back', () => {
    expect(encodeBase64('hunter2')).toBe('aHVudGVyMg==');
    expect(encodeBase64('密码 ✓')).toBe('5a+G56CBIOKckw==');
    expect(decodeBase64('5a+G56CBIOKckw==')).toBe('密码 ✓');
    expect(decodeBase64(encodeBase64(''))).toBe('');
  });

  it('reports binary or malformed values as undefined instead of garbage', () => {
    expect(decodeBase64('//79')).toBeUndefined(); // 0xff 0xfe 0xfd is not UTF-8
    expect(decodeBase64('not base64!')).toBeUndefined();
  });
});

describe('ConfigMap form', () => {
  it('builds the object from the rows, skipping empty ones', () => {
    const cm = configMapFromForm('shop', { name: ' app-config ', data: [{ key: 'mode', value: 'fast' }, { key: '', value: '' }, { key: 'app.yaml', value: 'a: 1\n' }] });
    expect(cm).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'shop' }, data: { mode: 'fast', 'app.yaml': 'a: 1\n' } });
  });

  it('refuses bad and duplicate keys and keeps the stored metadata on edit', () => {
    expect(entryProblems([{ key: 'a b', value: '' }, { key: 'ok', value: '' }, { key: 'ok', value: '' }, { key: '..', value: '' }])).toEqual({ 0: 'form.keyInvalid', 2: 'form.keyDuplicate', 3: 'form.keyInvalid' });
    expect(isClean(configMapProblems({ name: 'x', data: [{ key: 'k', value: 'v' }] }))).toBe(true);
    expect(isClean(configMapProblems({ name: 'X', data: [] }))).toBe(false);
    const existing = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop', resourceVersion: '7', labels: { a: 'b' } }, data: { old: '1' } };
    const edited = configMapFromForm('shop', { name: 'ignored', data: [{ key: 'new', value: '2' }] }, existing);
    expect(edited.metadata).toEqual(existing.metadata);
    expect(edited.data).toEqual({ new: '2' });
  });
});

describe('Secret form', () => {
  it('stores every value base64-encoded in data', () => {
    const s = secretFromForm('shop', { name: 'db', type: 'Opaque', data: [{ key: 'password', value: 's3cr3t' }] });
    expect(s).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, type: 'Opaque', data: { password: 'czNjcjN0' } });
  });

  it('keeps values the user did not reveal as they were, never decoding them', () => {
    const existing = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop', resourceVersion: '3' }, type: 'Opaque', data: { password: '//79', user: 'YWRtaW4=' } };
    const rows = secretEntries(existing);
    expect(rows).toEqual([
      { key: 'password', value: '', keep: '//79' },
      { key: 'user', value: '', keep: 'YWRtaW4=' },
    ]);
    const edited = secretFromForm('shop', { name: 'db', type: 'kubernetes.io/tls', data: [rows[0]!, { key: 'user', value: 'root' }] }, existing);
    expect(edited.data).toEqual({ password: '//79', user: 'cm9vdA==' });
    // The type of an existing Secret is immutable.
    expect(edited.type).toBe('Opaque');
    expect(edited.metadata.resourceVersion).toBe('3');
  });

  it('asks for the keys a Secret type requires', () => {
    expect(secretProblems({ name: 'tls', type: 'kubernetes.io/tls', data: [{ key: 'tls.crt', value: 'x' }] }).missing).toEqual(['tls.key']);
    expect(secretProblems({ name: 'b', type: 'kubernetes.io/basic-auth', data: [] }).missing).toEqual(['username', 'password']);
    expect(isClean(secretProblems({ name: 'b', type: 'kubernetes.io/basic-auth', data: [{ key: 'username', value: 'u' }] }))).toBe(true);
  });
});

describe('Service form', () => {
  it('builds a ClusterIP Service with a numeric or named target port', () => {
    const svc = serviceFromForm('shop', {
      name: 'web',
      type: 'ClusterIP',
      selector: [{ key: 'app', value: 'web' }],
      ports: [
        { name: 'http', port: 80, targetPort: '8080', protocol: 'TCP' },
        { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' },
      ],
    });
    expect(svc.spec).toEqual({
      type: 'ClusterIP',
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
        { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 'metrics' },
      ],
    });
  });

  it('makes a headless Service with clusterIP None', () => {
    const svc = serviceFromForm('shop', { name: 'db', type: 'Headless', selector: [], ports: [] });
    expect(svc.spec).toEqual({ type: 'ClusterIP', clusterIP: 'None' });
    expect(isClean(serviceProblems({ name: 'db', type: 'Headless', selector: [], ports: [] }))).toBe(true);
  });

  it('refuses bad ports, unnamed ports among several, and bad selectors', () => {
    const p = serviceProblems({
      name: 'web',
      type: 'NodePort',
      selector: [{ key: 'app', value: 'has space' }],
      ports: [
        { name: '', port: 70000, targetPort: '', protocol: 'TCP' },
        { name: '', port: 80, targetPort: '', protocol: 'TCP' },
        { name: 'x', port: 81, targetPort: 'Bad_Name', protocol: 'TCP' },
      ],
    });
    expect(p.selector).toEqual({ 0: 'form.labelInvalid' });
    expect(p.ports).toEqual({ 0: 'form.portInvalid', 1: 'form.portNameRequired', 2: 'form.targetPortInvalid' });
    expect(serviceProblems({ name: 'web', type: 'ClusterIP', selector: [], ports: [] }).ports).toEqual({ 0: 'form.portRequired' });
  });
});

describe('PersistentVolumeClaim form', () => {
  it('checks sizes as Kubernetes quantities', () => {
    expect(sizeProblem('10Gi')).toBeUndefined();
    expect(sizeProblem('1.5G')).toBeUndefined();
    expect(sizeProblem('0Gi')).toBe('form.sizeInvalid');
    expect(sizeProblem('ten')).toBe('form.sizeInvalid');
    expect(sizeProblem('10GB')).toBe('form.sizeInvalid');
    expect(pvcProblems({ name: 'data', storageClassName: '', accessMode: 'ReadWriteOnce', size: '1Gi' })).toEqual({ name: undefined, size: undefined });
  });

  it('leaves storageClassName out when empty so the default class applies', () => {
    expect(pvcFromForm('shop', { name: 'data', storageClassName: '', accessMode: 'ReadWriteOnce', size: '5Gi' }).spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } });
    expect(pvcFromForm('shop', { name: 'data', storageClassName: 'fast', accessMode: 'ReadWriteMany', size: '5Gi' }).spec).toMatchObject({ storageClassName: 'fast', accessModes: ['ReadWriteMany'] });
  });
});

describe('user state after a write', () => {
  it('reads the state the server answered with', () => {
    expect(stateAfterUpdate({ metadata: { name: 'u' }, status: { state: 'Disabled' } }, 'Disabled')).toBe('Disabled');
    // A server that dropped the status change answers the old state (or none, which means Active).
    expect(stateAfterUpdate({ metadata: { name: 'u' } }, 'Disabled')).toBe('Active');
    expect(stateAfterUpdate({ kind: 'Status', status: 'Success' }, 'Disabled')).toBe('Disabled');
  });
});

describe('workload detail', () => {
  const deploy = {
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      strategy: { type: 'RollingUpdate' },
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } },
        spec: {
          initContainers: [{ name: 'init', image: 'busybox' }],
          containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } } }],
        },
      },
    },
  };

  it('lists containers with ports and resources', () => {
    expect(containerRows(deploy)).toEqual([
      { name: 'init', image: 'busybox', ports: '', resources: '', init: true },
      { name: 'app', image: 'nginx:1.27', ports: '80/TCP', resources: 'cpu 100m / 200m; memory - / 64Mi', init: false },
    ]);
  });

  it('summarises the spec, including the last restart', () => {
    expect(specFacts('deployments', deploy)).toEqual([
      ['replicas', '2'],
      ['strategy', 'RollingUpdate'],
      ['selector', 'app=web'],
      ['restartedAt', '2026-01-01T00:00:00Z'],
    ]);
    expect(specFacts('cronjobs', { metadata: { name: 'c' }, spec: { schedule: '*/5 * * * *' } })).toEqual([
      ['schedule', '*/5 * * * *'],
      ['suspend', 'false'],
    ]);
  });

  it('reads revision numbers of ReplicaSets and ControllerRevisions', () => {
    expect(revisionOf({ metadata: { name: 'rs', annotations: { 'deployment.kubernetes.io/revision': '3' } } })).toBe(3);
    expect(revisionOf({ metadata: { name: 'cr' }, revision: 5 } as never)).toBe(5);
    expect(revisionOf({ metadata: { name: 'x' } })).toBeUndefined();
  });
});
