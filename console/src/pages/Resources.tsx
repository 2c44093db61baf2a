// Services, ConfigMaps, Secrets and PersistentVolumeClaims: list, detail (secret values hidden until revealed), create, edit, delete.

import { Anchor, Button, Code, Group, Modal, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { Link, Navigate, Route, Routes, useNavigate, useParams } from 'react-router-dom';
import { KINDS, type Kind } from '../api/kinds';
import type { K8sObject } from '../api/types';
import { useApp } from '../app/context';
import { useAsync, useVerbs, type Verbs } from '../app/hooks';
import { ErrorAlert, Loading } from '../components/Feedback';
import { ResourceTable } from '../components/ResourceTable';
import { YamlEditor } from '../components/Yaml';
import { useI18n, type MessageKey } from '../i18n';
import { age, ConfirmDelete, PageTitle, StateBadge } from './common';
import { ResourceFormDialog } from './ResourceForms';
import { decodeBase64 } from './resourceForms';
import { yamlTemplate } from './workloadStatus';

const PLURALS = ['services', 'configmaps', 'secrets', 'persistentvolumeclaims'] as const;
type Plural = (typeof PLURALS)[number];

export default function Resources({ ns }: { ns: string }) {
  const { plural = '' } = useParams();
  if (!(PLURALS as readonly string[]).includes(plural)) return <Navigate to={`/projects/${ns}`} replace />;
  return <ResourcePages ns={ns} plural={plural as Plural} />;
}

function ResourcePages({ ns, plural }: { ns: string; plural: Plural }) {
  const can = useVerbs(KINDS[plural], ns);
  return (
    <Routes>
      <Route index element={<ResourceList ns={ns} plural={plural} can={can} />} />
      <Route path=":name" element={<ResourceDetail ns={ns} plural={plural} can={can} />} />
    </Routes>
  );
}

function summary(plural: Plural, o: K8sObject): string {
  const spec = (o.spec ?? {}) as { type?: string; clusterIP?: string; ports?: { port?: number }[]; resources?: { requests?: { storage?: string } } };
  switch (plural) {
    case 'services':
      return `${spec.type ?? 'ClusterIP'} ${spec.clusterIP ?? ''} ${(spec.ports ?? []).map((x) => x.port).join(',')}`;
    case 'configmaps':
      return `${Object.keys(o.data ?? {}).length} keys`;
    case 'secrets':
      return `${o.type ?? 'Opaque'} · ${Object.keys(o.data ?? {}).length} keys`;
    case 'persistentvolumeclaims':
      return `${spec.resources?.requests?.storage ?? ''} ${String((o.status as { phase?: string } | undefined)?.phase ?? '')}`;
  }
}

function ResourceList({ ns, plural, can }: { ns: string; plural: Plural; can: Verbs }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const kind: Kind = KINDS[plural];
  const [creating, setCreating] = useState(false);
  const [formOpen, setFormOpen] = useState(false);
  const [deleting, setDeleting] = useState<string>();
  const [reload, setReload] = useState(0);
  return (
    <div>
      <PageTitle title={t(`menu.${plural}` as MessageKey)} />
      <ResourceTable<K8sObject>
        key={plural}
        label={t(`menu.${plural}` as MessageKey)}
        fetch={(q, s) => platform.resources(plural, q, ns, s)}
        reloadKey={reload}
        deps={[ns, plural]}
        rowKey={(o) => o.metadata.name}
        columns={[
          {
            key: 'name',
            title: t('col.name'),
            sortBy: 'name',
            render: (o) => (
              <Anchor component={Link} to={`/projects/${ns}/${plural}/${o.metadata.name}`}>
                {o.metadata.name}
              </Anchor>
            ),
          },
          { key: 'summary', title: t('col.details'), render: (o) => summary(plural, o) },
          { key: 'created', title: t('col.created'), render: (o) => age(o.metadata.creationTimestamp), sortBy: 'createTime' },
          ...(can.delete
            ? [
                {
                  key: 'actions',
                  title: t('col.actions'),
                  render: (o: K8sObject) => (
                    <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(o.metadata.name)} aria-label={t('action.deleteNamed', { name: o.metadata.name })}>
                      {t('action.delete')}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
        toolbar={
          can.create ? (
            <>
              <Button onClick={() => setFormOpen(true)} data-testid="create-form">
                {t('action.create')}
              </Button>
              <Button variant="light" onClick={() => setCreating(true)} data-testid="create-yaml">
                {t('action.createYaml')}
              </Button>
            </>
          ) : null
        }
      />
      {formOpen ? (
        <ResourceFormDialog
          plural={plural}
          ns={ns}
          onClose={(done) => {
            setFormOpen(false);
            if (done) setReload((r) => r + 1);
          }}
        />
      ) : null}
      {creating ? (
        <Modal opened onClose={() => setCreating(false)} title={t('action.createYaml')} size="xl">
          <YamlEditor
            initial={yamlTemplate(plural, ns)}
            save={(obj, dryRun) => platform.create(kind, obj, ns, dryRun)}
            onDone={() => {
              setCreating(false);
              setReload((r) => r + 1);
            }}
            onCancel={() => setCreating(false)}
          />
        </Modal>
      ) : null}
      {deleting ? (
        <ConfirmDelete
          what={t(`menu.${plural}` as MessageKey)}
          name={deleting}
          onConfirm={() => platform.remove(kind, deleting, ns)}
          onClose={(done) => {
            setDeleting(undefined);
            if (done) setReload((r) => r + 1);
          }}
        />
      ) : null}
    </div>
  );
}

function ResourceDetail({ ns, plural, can }: { ns: string; plural: Plural; can: Verbs }) {
  const { name = '' } = useParams();
  const { platform } = useApp();
  const { t } = useI18n();
  const navigate = useNavigate();
  const kind: Kind = KINDS[plural];
  const obj = useAsync(() => platform.get(kind, name, ns), [plural, name, ns]);
  const [revealed, setRevealed] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState(false);
  const [formEditing, setFormEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  if (obj.loading && !obj.data) return <Loading />;
  if (!obj.data) return <ErrorAlert error={obj.error} onRetry={obj.reload} />;
  const o = obj.data;
  const data = o.data ?? {};
  const secret = plural === 'secrets';
  // Secret values never enter the YAML view unless the user edits; the view shows the keys only.
  const shown: K8sObject = secret ? { ...o, data: Object.fromEntries(Object.keys(data).map((k) => [k, '<hidden>'])) } : o;
  return (
    <div>
      <PageTitle title={`${t(`menu.${plural}` as MessageKey)}: ${name}`}>
        {can.update && (plural === 'configmaps' || plural === 'secrets') ? (
          <Button variant="light" onClick={() => setFormEditing(true)} data-testid="edit-form">
            {t('action.edit')}
          </Button>
        ) : null}
        {can.update ? (
          <Button variant="light" onClick={() => setEditing(true)} data-testid="edit-yaml">
            {t('action.editYaml')}
          </Button>
        ) : null}
        {can.delete ? (
          <Button variant="light" color="red" onClick={() => setDeleting(true)}>
            {t('action.delete')}
          </Button>
        ) : null}
      </PageTitle>
      <Stack>
        <Group>
          <StateBadge state={String((o.status as { phase?: string } | undefined)?.phase ?? 'Active')} />
          <Text>{summary(plural, o)}</Text>
          <Text>
            {t('col.created')}: {age(o.metadata.creationTimestamp)}
          </Text>
        </Group>
        {Object.keys(data).length ? (
          <Table aria-label={t('detail.data')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('detail.key')}</Table.Th>
                <Table.Th>{t('detail.value')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {Object.entries(data).map(([k, v]) => (
                <Table.Tr key={k}>
                  <Table.Td>{k}</Table.Td>
                  <Table.Td>
                    {secret && !revealed.has(k) ? (
                      <Button size="xs" variant="subtle" onClick={() => setRevealed(new Set(revealed).add(k))} aria-label={t('secrets.revealKey', { key: k })}>
                        ●●●●●● {t('secrets.reveal')}
                      </Button>
                    ) : (
                      <Code block className="mono" data-testid={`value-${k}`}>
                        {secret ? (decodeBase64(v) ?? t('secrets.binaryValue', { n: Math.floor((v.length * 3) / 4) })) : v}
                      </Code>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : null}
        <YamlEditor key={o.metadata.resourceVersion} initial={shown} />
      </Stack>
      {editing ? (
        <Modal opened onClose={() => setEditing(false)} title={t('action.editYaml')} size="xl">
          <YamlEditor
            initial={o}
            save={(next, dryRun) => platform.replace(kind, { ...next, metadata: { ...next.metadata, namespace: ns } }, dryRun)}
            onDone={() => {
              setEditing(false);
              obj.reload();
            }}
            onCancel={() => setEditing(false)}
          />
        </Modal>
      ) : null}
      {formEditing ? (
        <ResourceFormDialog
          plural={plural}
          ns={ns}
          existing={o}
          onClose={(done) => {
            setFormEditing(false);
            if (done) obj.reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDelete
          what={t(`menu.${plural}` as MessageKey)}
          name={name}
          onConfirm={() => platform.remove(kind, name, ns)}
          onClose={(done) => {
            setDeleting(false);
            if (done) navigate(`/projects/${ns}/${plural}`);
          }}
        />
      ) : null}
    </div>
  );
}
