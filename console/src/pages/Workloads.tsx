// Workloads of a project: a server-paged list per kind, create (form or YAML), scale, restart, delete.

import { Anchor, Button, Group, Menu, Modal, NumberInput, Stack, Tabs, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { messageOf } from '../api/errors';
import { KINDS, WORKLOAD_KINDS, type Kind, type KindName } from '../api/kinds';
import type { K8sObject } from '../api/types';
import { useApp } from '../app/context';
import { useVerbs } from '../app/hooks';
import { ResourceTable } from '../components/ResourceTable';
import { YamlEditor } from '../components/Yaml';
import { useI18n, type MessageKey } from '../i18n';
import { age, ConfirmDelete, PageTitle, StateBadge } from './common';
import { hasReplicas, workloadFormProblems, workloadFromForm, type ContainerForm, type FormKind } from './forms';
import { imagesOf, workloadSummary, yamlTemplate } from './workloadStatus';

type Dialog = { kind: 'form' } | { kind: 'yaml' } | { kind: 'scale'; obj: K8sObject } | { kind: 'delete'; obj: K8sObject };

export default function Workloads({ ns }: { ns: string }) {
  const { kind: param = 'deployments' } = useParams();
  const navigate = useNavigate();
  const { platform } = useApp();
  const { t } = useI18n();
  const name = (WORKLOAD_KINDS as string[]).includes(param) ? (param as KindName) : 'deployments';
  const kind: Kind = KINDS[name];
  const can = useVerbs(kind, ns);
  const canManage = can.update || can.delete || can.scale;
  const [dialog, setDialog] = useState<Dialog>();
  const [reload, setReload] = useState(0);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const close = (changed: boolean) => {
    setDialog(undefined);
    if (changed) setReload((r) => r + 1);
  };
  const restart = async (obj: K8sObject) => {
    setBusy(obj.metadata.name);
    setError(undefined);
    try {
      await platform.restart(kind, obj.metadata.name, ns);
      setReload((r) => r + 1);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div>
      <PageTitle title={t('menu.workloads')} />
      <Tabs value={name} onChange={(v) => v && navigate(`/projects/${ns}/workloads/${v}`)} mb="sm">
        <Tabs.List>
          {WORKLOAD_KINDS.map((k) => (
            <Tabs.Tab key={k} value={k}>
              {t(`kind.${k}` as MessageKey)}
            </Tabs.Tab>
          ))}
        </Tabs.List>
      </Tabs>
      {error ? (
        <Text c="red" role="alert" mb="sm">
          {error}
        </Text>
      ) : null}
      <ResourceTable<K8sObject>
        key={name}
        label={t(`kind.${name}` as MessageKey)}
        fetch={(q, signal) => platform.resources(name, q, ns, signal)}
        statuses={kind.statuses ? [...kind.statuses] : undefined}
        reloadKey={reload}
        deps={[ns, name]}
        rowKey={(o) => o.metadata.name}
        columns={[
          {
            key: 'name',
            title: t('col.name'),
            sortBy: 'name',
            render: (o) =>
              name === 'pods' ? (
                o.metadata.name
              ) : (
                <Anchor component={Link} to={`/projects/${ns}/workloads/${name}/${o.metadata.name}`}>
                  {o.metadata.name}
                </Anchor>
              ),
          },
          { key: 'status', title: t('col.status'), render: (o) => <StateBadge state={workloadSummary(name, o).status} /> },
          { key: 'ready', title: name === 'cronjobs' ? t('workloads.schedule') : t('workloads.ready'), render: (o) => workloadSummary(name, o).ready },
          { key: 'images', title: t('workloads.images'), render: (o) => <Text size="xs">{imagesOf(o)}</Text> },
          { key: 'created', title: t('col.created'), render: (o) => age(o.metadata.creationTimestamp), sortBy: 'createTime' },
          ...(canManage
            ? [
                {
                  key: 'actions',
                  title: t('col.actions'),
                  render: (o: K8sObject) => (
                    <Menu>
                      <Menu.Target>
                        <Button size="xs" variant="subtle" loading={busy === o.metadata.name} aria-label={t('users.actionsFor', { name: o.metadata.name })}>
                          {t('col.actions')} ▾
                        </Button>
                      </Menu.Target>
                      <Menu.Dropdown>
                        {can.scale ? <Menu.Item onClick={() => setDialog({ kind: 'scale', obj: o })}>{t('workloads.scale')}</Menu.Item> : null}
                        {can.update && name !== 'jobs' && name !== 'cronjobs' ? <Menu.Item onClick={() => void restart(o)}>{t('workloads.restart')}</Menu.Item> : null}
                        {can.update && name !== 'pods' ? (
                          <Menu.Item component={Link} to={`/projects/${ns}/workloads/${name}/${o.metadata.name}?tab=yaml`}>
                            {t('action.editYaml')}
                          </Menu.Item>
                        ) : null}
                        {can.delete ? (
                          <Menu.Item color="red" onClick={() => setDialog({ kind: 'delete', obj: o })}>
                            {t('action.delete')}
                          </Menu.Item>
                        ) : null}
                      </Menu.Dropdown>
                    </Menu>
                  ),
                },
              ]
            : []),
        ]}
        toolbar={
          can.create ? (
            <>
              {name !== 'pods' ? (
                <Button onClick={() => setDialog({ kind: 'form' })} data-testid="create-form">
                  {t('action.create')}
                </Button>
              ) : null}
              <Button variant="light" onClick={() => setDialog({ kind: 'yaml' })} data-testid="create-yaml">
                {t('action.createYaml')}
              </Button>
            </>
          ) : null
        }
      />
      {dialog?.kind === 'form' && name !== 'pods' ? <WorkloadForm kind={name as FormKind} ns={ns} onClose={close} /> : null}
      {dialog?.kind === 'yaml' ? (
        <Modal opened onClose={() => close(false)} title={t('action.createYaml')} size="xl">
          <YamlEditor initial={yamlTemplate(name, ns)} save={(obj, dryRun) => platform.create(kind, obj, ns, dryRun)} onDone={() => close(true)} onCancel={() => close(false)} />
        </Modal>
      ) : null}
      {dialog?.kind === 'scale' ? <ScaleDialog kind={kind} ns={ns} obj={dialog.obj} onClose={close} /> : null}
      {dialog?.kind === 'delete' ? <ConfirmDelete what={t(`kind.${name}` as MessageKey)} name={dialog.obj.metadata.name} onConfirm={() => platform.remove(kind, dialog.obj.metadata.name, ns)} onClose={close} /> : null}
    </div>
  );
}

export function ScaleDialog({ kind, ns, obj, onClose }: { kind: Kind; ns: string; obj: K8sObject; onClose: (changed: boolean) => void }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const [replicas, setReplicas] = useState<number>(Number((obj.spec as { replicas?: number } | undefined)?.replicas ?? 1));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await platform.scale(kind, obj.metadata.name, ns, replicas);
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={t('workloads.scaleNamed', { name: obj.metadata.name })}>
      <form onSubmit={submit}>
        <Stack>
          <NumberInput label={t('workloads.replicas')} value={replicas} onChange={(v) => setReplicas(Number(v))} min={0} max={1000} allowDecimal={false} data-autofocus />
          {error ? (
            <Text c="red" size="sm" role="alert">
              {error}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button type="submit" loading={busy} data-testid="scale-submit">
              {t('action.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function WorkloadForm({ kind, ns, onClose }: { kind: FormKind; ns: string; onClose: (changed: boolean) => void }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const [form, setForm] = useState<ContainerForm>({ name: '', image: '', replicas: 1, env: [], schedule: kind === 'cronjobs' ? '*/5 * * * *' : undefined });
  const [problems, setProblems] = useState<ReturnType<typeof workloadFormProblems>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = workloadFormProblems(kind, form);
    setProblems(p);
    if (Object.keys(p).length) return;
    setBusy(true);
    setError(undefined);
    try {
      await platform.create(KINDS[kind], workloadFromForm(kind, ns, form), ns);
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const err = (k: keyof typeof problems) => (problems[k] ? t(problems[k]) : undefined);
  return (
    <Modal opened onClose={() => onClose(false)} title={t('workloads.createKind', { kind: t(`kind.${kind}` as MessageKey) })}>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label={t('col.name')} value={form.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} error={err('name')} required data-autofocus />
          <TextInput label={t('workloads.image')} placeholder="nginx:1.27" value={form.image} onChange={(e) => setForm({ ...form, image: e.currentTarget.value })} error={err('image')} required />
          {hasReplicas(kind) ? <NumberInput label={t('workloads.replicas')} value={form.replicas} onChange={(v) => setForm({ ...form, replicas: Number(v) })} min={0} max={1000} allowDecimal={false} error={err('replicas')} /> : null}
          {kind === 'cronjobs' ? <TextInput label={t('workloads.schedule')} value={form.schedule ?? ''} onChange={(e) => setForm({ ...form, schedule: e.currentTarget.value })} error={err('schedule')} required description={t('workloads.scheduleHint')} /> : null}
          <NumberInput label={t('workloads.port')} value={form.port ?? ''} onChange={(v) => setForm({ ...form, port: v === '' ? undefined : Number(v) })} min={1} max={65535} allowDecimal={false} error={err('port')} />
          {error ? (
            <Text c="red" size="sm" role="alert">
              {error}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => onClose(false)}>
              {t('action.cancel')}
            </Button>
            <Button type="submit" loading={busy} data-testid="deployment-submit">
              {t('action.create')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
