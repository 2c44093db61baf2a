// Create and edit dialogs for ConfigMaps, Secrets (values hidden until revealed), Services and PersistentVolumeClaims.

import { ActionIcon, Button, Group, Modal, NumberInput, PasswordInput, Select, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { messageOf } from '../api/errors';
import { KINDS } from '../api/kinds';
import type { K8sObject } from '../api/types';
import { useApp } from '../app/context';
import { useI18n } from '../i18n';
import {
  ACCESS_MODES,
  configMapFromForm,
  configMapProblems,
  decodeBase64,
  isClean,
  pvcFromForm,
  pvcProblems,
  SECRET_TYPES,
  secretEntries,
  secretFromForm,
  secretProblems,
  serviceFromForm,
  serviceProblems,
  type KeyValue,
  type PvcForm,
  type SecretEntry,
  type ServiceForm,
  type ServicePort,
} from './resourceForms';

export type FormPlural = 'services' | 'configmaps' | 'secrets' | 'persistentvolumeclaims';

/** The create (or, for ConfigMaps and Secrets, edit) form of a kind. */
export function ResourceFormDialog({ plural, ns, existing, onClose }: { plural: FormPlural; ns: string; existing?: K8sObject; onClose: (changed: boolean) => void }) {
  switch (plural) {
    case 'configmaps':
      return <ConfigMapDialog ns={ns} existing={existing} onClose={onClose} />;
    case 'secrets':
      return <SecretDialog ns={ns} existing={existing} onClose={onClose} />;
    case 'services':
      return <ServiceDialog ns={ns} onClose={onClose} />;
    case 'persistentvolumeclaims':
      return <PvcDialog ns={ns} onClose={onClose} />;
  }
}

/** Submits `run`, showing progress and the server's refusal in words. */
function useSubmit(onClose: (changed: boolean) => void) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (run: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await run();
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return { error, setError, busy, submit };
}

function Footer({ busy, error, onCancel, submitLabel, testId }: { busy: boolean; error?: string; onCancel: () => void; submitLabel: string; testId: string }) {
  const { t } = useI18n();
  return (
    <>
      {error ? (
        <Text c="red" size="sm" role="alert" data-testid="form-error">
          {error}
        </Text>
      ) : null}
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel}>
          {t('action.cancel')}
        </Button>
        <Button type="submit" loading={busy} data-testid={testId}>
          {submitLabel}
        </Button>
      </Group>
    </>
  );
}

/** Rows of key and value with add and remove; `value` renders each value's input. */
function Rows<T extends KeyValue>({
  label,
  rows,
  setRows,
  blank,
  problems,
  value,
  keyLabel,
}: {
  label: string;
  rows: T[];
  setRows: (rows: T[]) => void;
  blank: T;
  problems: Record<number, string | undefined>;
  value: (row: T, i: number, set: (row: T) => void) => ReactNode;
  keyLabel?: string;
}) {
  const { t } = useI18n();
  const set = (i: number) => (row: T) => setRows(rows.map((r, j) => (j === i ? row : r)));
  return (
    <Stack gap="xs">
      <Text fw={600} size="sm">
        {label}
      </Text>
      {rows.map((row, i) => (
        <Group key={i} align="flex-start" wrap="nowrap">
          <TextInput
            label={`${keyLabel ?? t('detail.key')} ${i + 1}`}
            value={row.key}
            onChange={(e) => set(i)({ ...row, key: e.currentTarget.value })}
            error={problems[i]}
            w={200}
            data-testid={`key-${i}`}
          />
          <div style={{ flex: 1 }}>{value(row, i, set(i))}</div>
          <ActionIcon variant="subtle" color="red" mt={26} onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={t('form.removeRow', { n: i + 1 })}>
            ✕
          </ActionIcon>
        </Group>
      ))}
      <Group>
        <Button size="xs" variant="light" onClick={() => setRows([...rows, { ...blank }])} data-testid="add-row">
          {t('form.addRow')}
        </Button>
      </Group>
    </Stack>
  );
}

function ConfigMapDialog({ ns, existing, onClose }: { ns: string; existing?: K8sObject; onClose: (changed: boolean) => void }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const [name, setName] = useState(existing?.metadata.name ?? '');
  const [rows, setRows] = useState<KeyValue[]>(existing ? Object.entries(existing.data ?? {}).map(([key, value]) => ({ key, value })) : [{ key: '', value: '' }]);
  const [problems, setProblems] = useState<ReturnType<typeof configMapProblems>>({ entries: {} });
  const { error, busy, submit } = useSubmit(onClose);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const p = configMapProblems({ name, data: rows }, !!existing);
    setProblems(p);
    if (!isClean(p)) return;
    const obj = configMapFromForm(ns, { name, data: rows }, existing);
    void submit(() => (existing ? platform.replace(KINDS.configmaps, obj) : platform.create(KINDS.configmaps, obj, ns)));
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={existing ? t('forms.editNamed', { name: existing.metadata.name }) : t('forms.createConfigMap')} size="xl">
      <form onSubmit={onSubmit}>
        <Stack>
          <TextInput label={t('col.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={!!existing} error={problems.name ? t(problems.name) : undefined} required data-autofocus description={t('form.nameRules')} />
          <Rows
            label={t('detail.data')}
            rows={rows}
            setRows={setRows}
            blank={{ key: '', value: '' }}
            problems={Object.fromEntries(Object.entries(problems.entries).map(([i, k]) => [i, t(k)]))}
            value={(row, i, set) => <Textarea label={`${t('detail.value')} ${i + 1}`} value={row.value} onChange={(e) => set({ ...row, value: e.currentTarget.value })} autosize minRows={1} maxRows={8} className="mono" data-testid={`value-input-${i}`} />}
          />
          <Footer busy={busy} error={error} onCancel={() => onClose(false)} submitLabel={existing ? t('action.save') : t('action.create')} testId="form-submit" />
        </Stack>
      </form>
    </Modal>
  );
}

/** One Secret value: kept encoded and hidden until the user reveals it, then a hidden-by-default input. */
function SecretValue({ row, i, set }: { row: SecretEntry; i: number; set: (row: SecretEntry) => void }) {
  const { t } = useI18n();
  const label = `${t('detail.value')} ${i + 1}`;
  if (row.keep !== undefined) {
    const keep = row.keep;
    return (
      <Stack gap={4}>
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <Group gap="xs">
          <Text size="sm" c="dimmed">
            ●●●●●●
          </Text>
          <Button size="xs" variant="subtle" onClick={() => set({ key: row.key, value: decodeBase64(keep) ?? '' })} disabled={decodeBase64(keep) === undefined} aria-label={t('secrets.revealKey', { key: row.key })}>
            {decodeBase64(keep) === undefined ? t('secrets.binary') : t('secrets.reveal')}
          </Button>
          <Button size="xs" variant="subtle" onClick={() => set({ key: row.key, value: '' })}>
            {t('secrets.replace')}
          </Button>
        </Group>
      </Stack>
    );
  }
  return <PasswordInput label={label} value={row.value} onChange={(e) => set({ ...row, value: e.currentTarget.value })} autoComplete="off" data-testid={`value-input-${i}`} />;
}

function SecretDialog({ ns, existing, onClose }: { ns: string; existing?: K8sObject; onClose: (changed: boolean) => void }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const [name, setName] = useState(existing?.metadata.name ?? '');
  const [type, setType] = useState<string>(existing?.type ?? 'Opaque');
  const [rows, setRows] = useState<SecretEntry[]>(existing ? secretEntries(existing) : [{ key: '', value: '' }]);
  const [problems, setProblems] = useState<ReturnType<typeof secretProblems>>({ entries: {}, missing: [] });
  const { error, busy, submit } = useSubmit(onClose);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const p = secretProblems({ name, type, data: rows }, !!existing);
    setProblems(p);
    if (!isClean(p)) return;
    const obj = secretFromForm(ns, { name, type, data: rows }, existing);
    void submit(() => (existing ? platform.replace(KINDS.secrets, obj) : platform.create(KINDS.secrets, obj, ns)));
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={existing ? t('forms.editNamed', { name: existing.metadata.name }) : t('forms.createSecret')} size="xl">
      <form onSubmit={onSubmit}>
        <Stack>
          <TextInput label={t('col.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={!!existing} error={problems.name ? t(problems.name) : undefined} required data-autofocus description={t('form.nameRules')} />
          <Select label={t('detail.type')} data={[...SECRET_TYPES]} value={type} onChange={(v) => v && setType(v)} disabled={!!existing} allowDeselect={false} />
          <Rows
            label={t('detail.data')}
            rows={rows}
            setRows={setRows}
            blank={{ key: '', value: '' }}
            problems={Object.fromEntries(Object.entries(problems.entries).map(([i, k]) => [i, t(k)]))}
            value={(row, i, set) => <SecretValue row={row} i={i} set={set} />}
          />
          {problems.missing.length ? (
            <Text c="red" size="sm" role="alert">
              {t('forms.missingKeys', { keys: problems.missing.join(', ') })}
            </Text>
          ) : null}
          <Footer busy={busy} error={error} onCancel={() => onClose(false)} submitLabel={existing ? t('action.save') : t('action.create')} testId="form-submit" />
        </Stack>
      </form>
    </Modal>
  );
}

function ServiceDialog({ ns, onClose }: { ns: string; onClose: (changed: boolean) => void }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const blankPort: ServicePort = { name: '', port: undefined, targetPort: '', protocol: 'TCP' };
  const [form, setForm] = useState<ServiceForm>({ name: '', type: 'ClusterIP', selector: [{ key: 'app', value: '' }], ports: [{ ...blankPort }] });
  const [problems, setProblems] = useState<ReturnType<typeof serviceProblems>>({ selector: {}, ports: {} });
  const { error, busy, submit } = useSubmit(onClose);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const p = serviceProblems(form);
    setProblems(p);
    if (!isClean(p)) return;
    void submit(() => platform.create(KINDS.services, serviceFromForm(ns, form), ns));
  };
  const setPort = (i: number, p: ServicePort) => setForm({ ...form, ports: form.ports.map((x, j) => (j === i ? p : x)) });
  return (
    <Modal opened onClose={() => onClose(false)} title={t('forms.createService')} size="xl">
      <form onSubmit={onSubmit}>
        <Stack>
          <TextInput label={t('col.name')} value={form.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} error={problems.name ? t(problems.name) : undefined} required data-autofocus description={t('form.nameRules')} />
          <Select label={t('detail.type')} data={['ClusterIP', 'Headless', 'NodePort', 'LoadBalancer']} value={form.type} onChange={(v) => v && setForm({ ...form, type: v as ServiceForm['type'] })} allowDeselect={false} />
          <Rows
            label={t('forms.selector')}
            keyLabel={t('forms.label')}
            rows={form.selector}
            setRows={(selector) => setForm({ ...form, selector })}
            blank={{ key: '', value: '' }}
            problems={Object.fromEntries(Object.entries(problems.selector).map(([i, k]) => [i, t(k)]))}
            value={(row, i, set) => <TextInput label={`${t('detail.value')} ${i + 1}`} value={row.value} onChange={(e) => set({ ...row, value: e.currentTarget.value })} data-testid={`value-input-${i}`} />}
          />
          <Text fw={600} size="sm">
            {t('forms.ports')}
          </Text>
          {form.ports.map((p, i) => (
            <Group key={i} align="flex-start" wrap="nowrap">
              <TextInput label={t('forms.portName')} value={p.name} onChange={(e) => setPort(i, { ...p, name: e.currentTarget.value })} w={140} error={problems.ports[i] ? t(problems.ports[i]) : undefined} />
              <NumberInput label={t('forms.port')} value={p.port ?? ''} onChange={(v) => setPort(i, { ...p, port: v === '' ? undefined : Number(v) })} min={1} max={65535} allowDecimal={false} w={120} />
              <TextInput label={t('forms.targetPort')} value={p.targetPort} onChange={(e) => setPort(i, { ...p, targetPort: e.currentTarget.value })} w={140} />
              <Select label={t('forms.protocol')} data={['TCP', 'UDP', 'SCTP']} value={p.protocol} onChange={(v) => v && setPort(i, { ...p, protocol: v as ServicePort['protocol'] })} allowDeselect={false} w={100} />
              <ActionIcon variant="subtle" color="red" mt={26} onClick={() => setForm({ ...form, ports: form.ports.filter((_, j) => j !== i) })} aria-label={t('form.removeRow', { n: i + 1 })}>
                ✕
              </ActionIcon>
            </Group>
          ))}
          <Group>
            <Button size="xs" variant="light" onClick={() => setForm({ ...form, ports: [...form.ports, { ...blankPort }] })}>
              {t('forms.addPort')}
            </Button>
          </Group>
          <Footer busy={busy} error={error} onCancel={() => onClose(false)} submitLabel={t('action.create')} testId="form-submit" />
        </Stack>
      </form>
    </Modal>
  );
}

function PvcDialog({ ns, onClose }: { ns: string; onClose: (changed: boolean) => void }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const [form, setForm] = useState<PvcForm>({ name: '', storageClassName: '', accessMode: 'ReadWriteOnce', size: '1Gi' });
  const [problems, setProblems] = useState<ReturnType<typeof pvcProblems>>({});
  const { error, busy, submit } = useSubmit(onClose);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const p = pvcProblems(form);
    setProblems(p);
    if (!isClean(p)) return;
    void submit(() => platform.create(KINDS.persistentvolumeclaims, pvcFromForm(ns, form), ns));
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={t('forms.createPvc')}>
      <form onSubmit={onSubmit}>
        <Stack>
          <TextInput label={t('col.name')} value={form.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} error={problems.name ? t(problems.name) : undefined} required data-autofocus description={t('form.nameRules')} />
          <TextInput label={t('forms.size')} value={form.size} onChange={(e) => setForm({ ...form, size: e.currentTarget.value })} error={problems.size ? t(problems.size) : undefined} required description="10Gi, 500Mi" />
          <Select label={t('forms.accessMode')} data={[...ACCESS_MODES]} value={form.accessMode} onChange={(v) => v && setForm({ ...form, accessMode: v as PvcForm['accessMode'] })} allowDeselect={false} />
          <TextInput label={t('forms.storageClass')} value={form.storageClassName} onChange={(e) => setForm({ ...form, storageClassName: e.currentTarget.value })} description={t('forms.storageClassHint')} />
          <Footer busy={busy} error={error} onCancel={() => onClose(false)} submitLabel={t('action.create')} testId="form-submit" />
        </Stack>
      </form>
    </Modal>
  );
}
