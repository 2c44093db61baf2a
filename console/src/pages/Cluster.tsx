// Cluster: nodes, namespaces, CRDs and their objects (generic YAML view and edit).

import { Anchor, Button, Card, Group, Modal, Table, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { Link, Navigate, Route, Routes, useParams } from 'react-router-dom';
import { KINDS, type Kind } from '../api/kinds';
import { CLUSTER_MENU, visible } from '../api/permissions';
import { WORKSPACE_LABEL, type K8sList, type K8sObject } from '../api/types';
import { useApp } from '../app/context';
import { useAsync, useCan, useTemplates } from '../app/hooks';
import { SideMenu } from '../app/Layout';
import { ErrorAlert, Loading } from '../components/Feedback';
import { ResourceTable } from '../components/ResourceTable';
import { YamlEditor } from '../components/Yaml';
import { useI18n } from '../i18n';
import { age, PageTitle, StateBadge } from './common';

export default function Cluster() {
  const { t } = useI18n();
  const templates = useTemplates('cluster');
  if (!templates) return <Loading />;
  const entries = visible(CLUSTER_MENU, templates);
  return (
    <Group align="flex-start" wrap="nowrap">
      <Card withBorder w={200} p="xs">
        <SideMenu entries={entries} base="/cluster" label={t('menu.cluster')} />
      </Card>
      <div style={{ flex: 1, minWidth: 0 }}>
        <Routes>
          <Route index element={<Navigate to="nodes" replace />} />
          <Route path="nodes" element={<Nodes />} />
          <Route path="namespaces" element={<Namespaces />} />
          <Route path="crds" element={<Crds />} />
          <Route path="crds/:crd" element={<CrdObjects />} />
        </Routes>
      </div>
    </Group>
  );
}

function nodeStatus(n: K8sObject): string {
  const conditions = (n.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  if ((n.spec as { unschedulable?: boolean } | undefined)?.unschedulable) return 'unschedulable';
  return conditions.find((c) => c.type === 'Ready')?.status === 'True' ? 'running' : 'warning';
}

/** A cluster-scoped object's YAML, editable (with dry-run) when Kubernetes allows the caller to update it. */
function ObjectYaml({ kind, name, onClose }: { kind: Kind; name: string; onClose: (changed: boolean) => void }) {
  const { platform } = useApp();
  const obj = useAsync(() => platform.get(kind, name), [kind.plural, name]);
  const canEdit = useCan({ verb: 'update', group: kind.group, resource: kind.plural, name });
  return (
    <Modal opened onClose={() => onClose(false)} title={`${kind.kind}: ${name}`} size="xl">
      <ErrorAlert error={obj.error} onRetry={obj.reload} />
      {obj.loading && !obj.data ? <Loading /> : null}
      {obj.data ? <YamlEditor key={obj.data.metadata.resourceVersion} initial={obj.data} save={canEdit ? (next, dryRun) => platform.replace(kind, next, dryRun) : undefined} onDone={() => onClose(true)} onCancel={() => onClose(false)} /> : null}
    </Modal>
  );
}

function Nodes() {
  const { platform } = useApp();
  const { t } = useI18n();
  const [open, setOpen] = useState<string>();
  const [reload, setReload] = useState(0);
  return (
    <div>
      <PageTitle title={t('menu.nodes')} />
      {open ? (
        <ObjectYaml
          kind={KINDS.nodes}
          name={open}
          onClose={(changed) => {
            setOpen(undefined);
            if (changed) setReload((r) => r + 1);
          }}
        />
      ) : null}
      <ResourceTable<K8sObject>
        label={t('menu.nodes')}
        fetch={(q, s) => platform.resources('nodes', q, undefined, s)}
        statuses={[...KINDS.nodes.statuses]}
        reloadKey={reload}
        rowKey={(n) => n.metadata.name}
        initialSort="name"
        columns={[
          {
            key: 'name',
            title: t('col.name'),
            sortBy: 'name',
            render: (n) => (
              <Anchor component="button" onClick={() => setOpen(n.metadata.name)}>
                {n.metadata.name}
              </Anchor>
            ),
          },
          { key: 'status', title: t('col.status'), render: (n) => <StateBadge state={nodeStatus(n)} /> },
          { key: 'version', title: t('cluster.version'), render: (n) => String((n.status as { nodeInfo?: { kubeletVersion?: string } } | undefined)?.nodeInfo?.kubeletVersion ?? '-') },
          { key: 'created', title: t('col.created'), render: (n) => age(n.metadata.creationTimestamp), sortBy: 'createTime' },
        ]}
      />
    </div>
  );
}

function Namespaces() {
  const { platform } = useApp();
  const { t } = useI18n();
  const [open, setOpen] = useState<string>();
  const [reload, setReload] = useState(0);
  return (
    <div>
      <PageTitle title={t('menu.namespaces')} />
      {open ? (
        <ObjectYaml
          kind={KINDS.namespaces}
          name={open}
          onClose={(changed) => {
            setOpen(undefined);
            if (changed) setReload((r) => r + 1);
          }}
        />
      ) : null}
      <ResourceTable<K8sObject>
        label={t('menu.namespaces')}
        fetch={(q, s) => platform.resources('namespaces', q, undefined, s)}
        reloadKey={reload}
        rowKey={(n) => n.metadata.name}
        columns={[
          {
            key: 'name',
            title: t('col.name'),
            sortBy: 'name',
            render: (n) =>
              n.metadata.labels?.[WORKSPACE_LABEL] ? (
                <Anchor component={Link} to={`/projects/${n.metadata.name}`}>
                  {n.metadata.name}
                </Anchor>
              ) : (
                n.metadata.name
              ),
          },
          { key: 'workspace', title: t('menu.workspace'), render: (n) => n.metadata.labels?.[WORKSPACE_LABEL] ?? '-' },
          {
            key: 'yaml',
            title: 'YAML',
            render: (n) => (
              <Button size="xs" variant="subtle" onClick={() => setOpen(n.metadata.name)} aria-label={t('cluster.yamlOf', { name: n.metadata.name })}>
                YAML
              </Button>
            ),
          },
          { key: 'status', title: t('col.status'), render: (n) => <StateBadge state={String((n.status as { phase?: string } | undefined)?.phase ?? '-')} /> },
          { key: 'created', title: t('col.created'), render: (n) => age(n.metadata.creationTimestamp), sortBy: 'createTime' },
        ]}
      />
    </div>
  );
}

interface CrdSpec {
  group: string;
  names: { plural: string; kind: string };
  scope: 'Namespaced' | 'Cluster';
  versions: { name: string; served?: boolean; storage?: boolean }[];
}

function Crds() {
  const { platform } = useApp();
  const { t } = useI18n();
  return (
    <div>
      <PageTitle title={t('menu.crds')} />
      <ResourceTable<K8sObject>
        label={t('menu.crds')}
        fetch={(q, s) => platform.resources('customresourcedefinitions', q, undefined, s)}
        rowKey={(c) => c.metadata.name}
        initialSort="name"
        columns={[
          {
            key: 'name',
            title: t('col.name'),
            sortBy: 'name',
            render: (c) => (
              <Anchor component={Link} to={`/cluster/crds/${c.metadata.name}`}>
                {c.metadata.name}
              </Anchor>
            ),
          },
          { key: 'kind', title: t('cluster.kind'), render: (c) => (c.spec as unknown as CrdSpec | undefined)?.names.kind ?? '' },
          { key: 'scope', title: t('cluster.scope'), render: (c) => (c.spec as unknown as CrdSpec | undefined)?.scope ?? '' },
          { key: 'created', title: t('col.created'), render: (c) => age(c.metadata.creationTimestamp), sortBy: 'createTime' },
        ]}
      />
    </div>
  );
}

/** Objects of one CRD, paged with the Kubernetes `limit`/`continue` tokens. */
function CrdObjects() {
  const { crd = '' } = useParams();
  const { platform, api } = useApp();
  const { t } = useI18n();
  const [tokens, setTokens] = useState<string[]>(['']);
  const [namespace, setNamespace] = useState('');
  const [open, setOpen] = useState<K8sObject>();
  const def = useAsync(() => platform.get(KINDS.customresourcedefinitions, crd), [crd]);
  const spec = def.data?.spec as unknown as CrdSpec | undefined;
  const version = spec?.versions.find((v) => v.storage)?.name ?? spec?.versions[0]?.name ?? 'v1';
  const kind: Kind | undefined = spec ? { plural: spec.names.plural, kind: spec.names.kind, group: spec.group, version, namespaced: spec.scope === 'Namespaced' } : undefined;
  const canEdit = useCan({ verb: 'update', group: spec?.group ?? '', resource: spec?.names.plural ?? '', namespace: open?.metadata.namespace });
  const token = tokens[tokens.length - 1] ?? '';
  const objects = useAsync(async () => {
    if (!kind) return undefined;
    const path = `/apis/${kind.group}/${kind.version}${kind.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${kind.plural}`;
    return api.get<K8sList>(path, { limit: 20, continue: token || undefined });
  }, [kind?.plural, kind?.group, version, namespace, token]);
  if (def.loading && !def.data) return <Loading />;
  if (!kind) return <ErrorAlert error={def.error} onRetry={def.reload} />;
  return (
    <div>
      <PageTitle title={`${spec?.names.kind} (${crd})`} />
      {kind.namespaced ? (
        <TextInput
          mb="sm"
          w={260}
          label={t('cluster.namespaceFilter')}
          value={namespace}
          onChange={(e) => {
            setNamespace(e.currentTarget.value);
            setTokens(['']);
          }}
        />
      ) : null}
      <ErrorAlert error={objects.error} onRetry={objects.reload} />
      <Table aria-label={crd}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('col.name')}</Table.Th>
            {kind.namespaced ? <Table.Th>{t('menu.namespaces')}</Table.Th> : null}
            <Table.Th>{t('col.created')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(objects.data?.items ?? []).map((o) => (
            <Table.Tr key={`${o.metadata.namespace}/${o.metadata.name}`}>
              <Table.Td>
                <Anchor component="button" onClick={() => setOpen(o)}>
                  {o.metadata.name}
                </Anchor>
              </Table.Td>
              {kind.namespaced ? <Table.Td>{o.metadata.namespace}</Table.Td> : null}
              <Table.Td>{age(o.metadata.creationTimestamp)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {objects.data && objects.data.items.length === 0 ? <Text c="dimmed">{t('list.empty')}</Text> : null}
      <Group mt="sm">
        <Button variant="default" disabled={tokens.length <= 1} onClick={() => setTokens(tokens.slice(0, -1))}>
          {t('list.previous')}
        </Button>
        <Button variant="default" disabled={!objects.data?.metadata?.continue} onClick={() => setTokens([...tokens, objects.data?.metadata?.continue ?? ''])}>
          {t('list.next')}
        </Button>
      </Group>
      {open ? (
        <Modal opened onClose={() => setOpen(undefined)} title={open.metadata.name} size="xl">
          <YamlEditor
            initial={open}
            save={canEdit ? (next, dryRun) => platform.replace(kind, next, dryRun) : undefined}
            onDone={() => {
              setOpen(undefined);
              objects.reload();
            }}
            onCancel={() => setOpen(undefined)}
          />
        </Modal>
      ) : null}
    </div>
  );
}
