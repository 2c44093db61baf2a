// The create and edit forms of Services, ConfigMaps, Secrets and PersistentVolumeClaims: validation, secret encoding and the objects they write.

import type { MessageKey } from '../i18n';
import type { K8sObject } from '../api/types';
import { nameProblem } from './forms';

export interface KeyValue {
  key: string;
  value: string;
}

/** A Secret entry in the form. `keep` holds the stored base64 value while the user has not revealed or changed it, so it is never decoded needlessly. */
export interface SecretEntry extends KeyValue {
  keep?: string;
}

/** Base64 of the UTF-8 bytes of `text` (what a Secret's `data` holds). */
export function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The text of a Secret value; undefined when it is not base64 of valid UTF-8 (binary data). */
export function decodeBase64(b64: string): string | undefined {
  try {
    const bin = atob(b64.replace(/\s+/g, ''));
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/** ConfigMap and Secret keys: `[-._a-zA-Z0-9]+`, at most 253 characters (Kubernetes' IsConfigMapKey). */
export function keyProblem(key: string): MessageKey | undefined {
  if (!key) return 'form.required';
  if (key.length > 253) return 'form.keyInvalid';
  if (!/^[-._a-zA-Z0-9]+$/.test(key) || key === '.' || key === '..') return 'form.keyInvalid';
  return undefined;
}

/** Problems of a list of entries, by row index; duplicate keys are refused as the server would. */
export function entryProblems(entries: readonly KeyValue[]): Record<number, MessageKey> {
  const out: Record<number, MessageKey> = {};
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const p = keyProblem(e.key);
    if (p) out[i] = p;
    else if (seen.has(e.key)) out[i] = 'form.keyDuplicate';
    seen.add(e.key);
  });
  return out;
}

/** Rows the user left completely empty are not entries. */
function filled<T extends KeyValue>(entries: readonly T[]): T[] {
  return entries.filter((e) => e.key.trim() || e.value || (e as SecretEntry).keep !== undefined);
}

function meta(namespace: string, name: string, existing?: K8sObject) {
  return existing ? { ...existing.metadata } : { name: name.trim(), namespace };
}

export interface ConfigMapForm {
  name: string;
  data: KeyValue[];
}

export function configMapProblems(f: ConfigMapForm, editing = false): { name?: MessageKey; entries: Record<number, MessageKey> } {
  return { name: editing ? undefined : nameProblem(f.name.trim()), entries: entryProblems(filled(f.data)) };
}

export function configMapFromForm(namespace: string, f: ConfigMapForm, existing?: K8sObject): K8sObject {
  return {
    ...(existing ?? {}),
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(namespace, f.name, existing),
    data: Object.fromEntries(filled(f.data).map((e) => [e.key.trim(), e.value])),
  };
}

export const SECRET_TYPES = ['Opaque', 'kubernetes.io/basic-auth', 'kubernetes.io/tls', 'kubernetes.io/ssh-auth'] as const;

/** The keys Kubernetes requires for each Secret type. */
const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

export interface SecretForm {
  name: string;
  type: string;
  data: SecretEntry[];
}

/** The entries of an existing Secret, every value kept encoded until the user reveals it. */
export function secretEntries(secret: K8sObject): SecretEntry[] {
  return Object.entries(secret.data ?? {}).map(([key, keep]) => ({ key, value: '', keep }));
}

export function secretProblems(f: SecretForm, editing = false): { name?: MessageKey; entries: Record<number, MessageKey>; missing: string[] } {
  const entries = filled(f.data);
  const keys = new Set(entries.map((e) => e.key.trim()));
  const missing = (REQUIRED_KEYS[f.type] ?? []).filter((k) => !keys.has(k));
  if (f.type === 'kubernetes.io/basic-auth' && !keys.has('username') && !keys.has('password')) missing.push('username', 'password');
  return { name: editing ? undefined : nameProblem(f.name.trim()), entries: entryProblems(entries), missing };
}

/** A Secret with every value in `data` as base64 (kept values unchanged); the type is fixed once created. */
export function secretFromForm(namespace: string, f: SecretForm, existing?: K8sObject): K8sObject {
  const { stringData: _dropped, ...rest } = existing ?? ({} as Partial<K8sObject>);
  return {
    ...rest,
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(namespace, f.name, existing),
    type: existing?.type ?? f.type,
    data: Object.fromEntries(filled(f.data).map((e) => [e.key.trim(), e.keep ?? encodeBase64(e.value)])),
  };
}

export interface ServicePort {
  name: string;
  port: number | undefined;
  targetPort: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface ServiceForm {
  name: string;
  /** `Headless` is a ClusterIP Service with `clusterIP: None`. */
  type: 'ClusterIP' | 'Headless' | 'NodePort' | 'LoadBalancer';
  selector: KeyValue[];
  ports: ServicePort[];
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export function serviceProblems(f: ServiceForm): { name?: MessageKey; selector: Record<number, MessageKey>; ports: Record<number, MessageKey> } {
  const selector: Record<number, MessageKey> = {};
  filled(f.selector).forEach((e, i) => {
    if (!LABEL_KEY.test(e.key.trim()) || e.value.length > 63 || !LABEL_VALUE.test(e.value)) selector[i] = 'form.labelInvalid';
  });
  const ports: Record<number, MessageKey> = {};
  const names = new Set<string>();
  f.ports.forEach((p, i) => {
    if (p.port === undefined || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) ports[i] = 'form.portInvalid';
    else if (p.targetPort && !/^[0-9]+$/.test(p.targetPort) && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.targetPort)) ports[i] = 'form.targetPortInvalid';
    else if (p.targetPort && /^[0-9]+$/.test(p.targetPort) && (Number(p.targetPort) < 1 || Number(p.targetPort) > 65535)) ports[i] = 'form.targetPortInvalid';
    else if (f.ports.length > 1 && !p.name) ports[i] = 'form.portNameRequired';
    else if (p.name && names.has(p.name)) ports[i] = 'form.keyDuplicate';
    names.add(p.name);
  });
  if (f.ports.length === 0 && f.type !== 'Headless') ports[0] = 'form.portRequired';
  return { name: nameProblem(f.name.trim()), selector, ports };
}

export function serviceFromForm(namespace: string, f: ServiceForm): K8sObject {
  const selector = Object.fromEntries(filled(f.selector).map((e) => [e.key.trim(), e.value]));
  const ports = f.ports.map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    port: p.port,
    protocol: p.protocol,
    ...(p.targetPort ? { targetPort: /^[0-9]+$/.test(p.targetPort) ? Number(p.targetPort) : p.targetPort } : {}),
  }));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: f.name.trim(), namespace },
    spec: {
      type: f.type === 'Headless' ? 'ClusterIP' : f.type,
      ...(f.type === 'Headless' ? { clusterIP: 'None' } : {}),
      ...(Object.keys(selector).length ? { selector } : {}),
      ...(ports.length ? { ports } : {}),
    },
  };
}

export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;

export interface PvcForm {
  name: string;
  storageClassName: string;
  accessMode: (typeof ACCESS_MODES)[number];
  size: string;
}

/** A Kubernetes quantity of bytes greater than zero, e.g. `10Gi`, `500M`. */
export function sizeProblem(size: string): MessageKey | undefined {
  const m = /^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(size.trim());
  if (!m) return 'form.sizeInvalid';
  return Number(m[1]) > 0 ? undefined : 'form.sizeInvalid';
}

export function pvcProblems(f: PvcForm): { name?: MessageKey; size?: MessageKey } {
  return { name: nameProblem(f.name.trim()), size: sizeProblem(f.size) };
}

export function pvcFromForm(namespace: string, f: PvcForm): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: f.name.trim(), namespace },
    spec: {
      accessModes: [f.accessMode],
      resources: { requests: { storage: f.size.trim() } },
      // Empty means the cluster's default StorageClass: leave the field out rather than send "".
      ...(f.storageClassName.trim() ? { storageClassName: f.storageClassName.trim() } : {}),
    },
  };
}

/** True when a problems object holds no problem. */
export function isClean(p: Record<string, unknown>): boolean {
  return Object.values(p).every((v) => v === undefined || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null ? Object.keys(v).length === 0 : false));
}
