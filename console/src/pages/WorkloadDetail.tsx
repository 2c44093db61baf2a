// A workload's detail: summary, pods, events, revisions and its YAML (view, or edit with dry-run).

import { Anchor, Button, Group, Modal, Stack, Table, Tabs, Text } from '@mantine/core';
import { useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { KINDS, WORKLOAD_KINDS, type KindName } from '../api/kinds';
import { Platform } from '../api/platform';
import type { K8sObject } from '../api/types';
import { useApp } from '../app/context';
import { useAsync, useVerbs } from '../app/hooks';
import { ErrorAlert, Loading } from '../components/Feedback';
import { YamlEditor } from '../components/Yaml';
import { useI18n, type MessageKey } from '../i18n';
import { age, ConfirmDelete, PageTitle, StateBadge } from './common';
import { messageOf } from '../api/errors';
import { containerRows, imagesOf, revisionOf, specFacts, workloadSummary } from './workloadStatus';
import { ScaleDialog } from './Workloads';

export default function WorkloadDetail({ ns }: { ns: string }) {
  const { kind: param = 'deployments', name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const { platform, api } = useApp();
  const { t } = useI18n();
  const kindName = (WORKLOAD_KINDS as string[]).includes(param) ? (param as KindName) : 'deployments';
  const kind = KINDS[kindName];
  const can = useVerbs(kind, ns);
  const [scaling, setScaling] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [restart, setRestart] = useState<{ busy: boolean; error?: string; done?: boolean }>({ busy: false });
  const [openRevision, setOpenRevision] = useState<number>();
  const obj = useAsync(() => platform.get(kind, name, ns), [kindName, name, ns]);
  const tab = params.get('tab') ?? 'overview';

  const related = useAsync(async () => {
    const o = obj.data;
    if (!o) return undefined;
    const selector = Platform.selectorOf(o);
    const [pods, events, revisions] = await Promise.all([
      selector ? platform.pods(ns, selector).then((l) => l.items) : Promise.resolve([] as K8sObject[]),
      platform.events(ns, { name: o.metadata.name, uid: o.metadata.uid }).then((l) => l.items).catch(() => [] as K8sObject[]),
      (kindName === 'deployments'
        ? api.get<{ items: K8sObject[] }>(`/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/replicasets`, { labelSelector: selector, limit: 100 })
        : kindName === 'statefulsets' || kindName === 'daemonsets'
          ? api.get<{ items: K8sObject[] }>(`/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/controllerrevisions`, { labelSelector: selector, limit: 100 })
          : Promise.resolve({ items: [] as K8sObject[] })
      )
        .then((l) => l.items.filter((r) => r.metadata.ownerReferences?.some((ref) => ref.uid === o.metadata.uid)))
        .catch(() => [] as K8sObject[]),
    ]);
    return { pods, events, revisions };
  }, [obj.data]);

  if (obj.loading && !obj.data) return <Loading />;
  if (!obj.data) return <ErrorAlert error={obj.error} onRetry={obj.reload} />;
  const o = obj.data;
  const summary = workloadSummary(kindName, o);
  const restartable = kindName === 'deployments' || kindName === 'statefulsets' || kindName === 'daemonsets';
  const doRestart = async () => {
    setRestart({ busy: true });
    try {
      await platform.restart(kind, name, ns);
      setRestart({ busy: false, done: true });
      obj.reload();
    } catch (e) {
      setRestart({ busy: false, error: messageOf(e) });
    }
  };

  return (
    <div>
      <PageTitle title={`${t(`kind.${kindName}` as MessageKey)}: ${name}`}>
        {can.update && restartable ? (
          <Button variant="light" onClick={() => void doRestart()} loading={restart.busy} data-testid="restart">
            {t('workloads.restart')}
          </Button>
        ) : null}
        {can.scale ? (
          <Button variant="light" onClick={() => setScaling(true)} data-testid="scale">
            {t('workloads.scale')}
          </Button>
        ) : null}
        {can.delete ? (
          <Button color="red" variant="light" onClick={() => setDeleting(true)} data-testid="delete">
            {t('action.delete')}
          </Button>
        ) : null}
      </PageTitle>
      <ErrorAlert error={obj.error} onRetry={obj.reload} />
      {restart.error ? (
        <Text c="red" role="alert" mb="sm">
          {restart.error}
        </Text>
      ) : null}
      {restart.done ? (
        <Text c="green" role="status" mb="sm" data-testid="restart-done">
          {t('workloads.restarted')}
        </Text>
      ) : null}
      <Tabs value={tab} onChange={(v) => setParams(v && v !== 'overview' ? { tab: v } : {})}>
        <Tabs.List>
          <Tabs.Tab value="overview">{t('detail.overview')}</Tabs.Tab>
          <Tabs.Tab value="events">{t('detail.events')}</Tabs.Tab>
          <Tabs.Tab value="revisions">{t('detail.revisions')}</Tabs.Tab>
          <Tabs.Tab value="yaml">YAML</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview" pt="md">
          <Stack>
            <Group>
              <StateBadge state={summary.status} />
              <Text data-testid="replicas">
                {kindName === 'cronjobs' ? t('workloads.schedule') : t('workloads.ready')}: {summary.ready}
              </Text>
              <Text>
                {t('workloads.images')}: {imagesOf(o)}
              </Text>
              <Text>
                {t('col.created')}: {age(o.metadata.creationTimestamp)}
              </Text>
            </Group>
            <Text fw={600}>{t('detail.spec')}</Text>
            <Table aria-label={t('detail.spec')} data-testid="spec">
              <Table.Tbody>
                {specFacts(kindName, o).map(([k, v]) => (
                  <Table.Tr key={k}>
                    <Table.Th w={200}>{k}</Table.Th>
                    <Table.Td>{v}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            <Text fw={600}>{t('detail.containers')}</Text>
            <Table aria-label={t('detail.containers')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('col.name')}</Table.Th>
                  <Table.Th>{t('workloads.image')}</Table.Th>
                  <Table.Th>{t('forms.ports')}</Table.Th>
                  <Table.Th>{t('detail.resources')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {containerRows(o).map((c) => (
                  <Table.Tr key={`${c.init}-${c.name}`}>
                    <Table.Td>
                      {c.name}
                      {c.init ? ` (${t('detail.init')})` : ''}
                    </Table.Td>
                    <Table.Td className="mono">{c.image}</Table.Td>
                    <Table.Td>{c.ports || '-'}</Table.Td>
                    <Table.Td>{c.resources || '-'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            <Text fw={600}>{t('detail.pods')}</Text>
            <ErrorAlert error={related.error} onRetry={related.reload} />
            <Table aria-label={t('detail.pods')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('col.name')}</Table.Th>
                  <Table.Th>{t('col.status')}</Table.Th>
                  <Table.Th>{t('detail.node')}</Table.Th>
                  <Table.Th>{t('col.created')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(related.data?.pods ?? []).map((p) => (
                  <Table.Tr key={p.metadata.name}>
                    <Table.Td>{p.metadata.name}</Table.Td>
                    <Table.Td>
                      <StateBadge state={String((p.status as { phase?: string } | undefined)?.phase ?? '-')} />
                    </Table.Td>
                    <Table.Td>{String((p.spec as { nodeName?: string } | undefined)?.nodeName ?? '-')}</Table.Td>
                    <Table.Td>{age(p.metadata.creationTimestamp)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="events" pt="md">
          <Group justify="flex-end">
            <Button size="xs" variant="subtle" onClick={related.reload} loading={related.loading}>
              {t('action.refresh')}
            </Button>
          </Group>
          <Table aria-label={t('detail.events')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('detail.type')}</Table.Th>
                <Table.Th>{t('detail.reason')}</Table.Th>
                <Table.Th>{t('detail.message')}</Table.Th>
                <Table.Th>{t('col.created')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(related.data?.events ?? []).map((e) => {
                const ev = e as K8sObject & { type?: string; reason?: string; message?: string; lastTimestamp?: string };
                return (
                  <Table.Tr key={e.metadata.name}>
                    <Table.Td>{ev.type}</Table.Td>
                    <Table.Td>{ev.reason}</Table.Td>
                    <Table.Td>{ev.message}</Table.Td>
                    <Table.Td>{age(ev.lastTimestamp ?? e.metadata.creationTimestamp)}</Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
          {related.data && related.data.events.length === 0 ? <Text c="dimmed">{t('list.empty')}</Text> : null}
        </Tabs.Panel>
        <Tabs.Panel value="revisions" pt="md">
          <Group justify="flex-end">
            <Button size="xs" variant="subtle" onClick={related.reload} loading={related.loading} data-testid="refresh-revisions">
              {t('action.refresh')}
            </Button>
          </Group>
          <Table aria-label={t('detail.revisions')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('detail.revision')}</Table.Th>
                <Table.Th>{t('col.name')}</Table.Th>
                <Table.Th>{t('col.created')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {[...(related.data?.revisions ?? [])]
                .sort((a, b) => (revisionOf(b) ?? 0) - (revisionOf(a) ?? 0))
                .map((r) => (
                  <Table.Tr key={r.metadata.name}>
                    <Table.Td>
                      {revisionOf(r) !== undefined && restartable ? (
                        <Anchor component="button" onClick={() => setOpenRevision(revisionOf(r))} aria-label={t('detail.revisionNamed', { n: revisionOf(r) ?? '' })}>
                          #{revisionOf(r)}
                        </Anchor>
                      ) : (
                        `#${revisionOf(r) ?? '-'}`
                      )}
                    </Table.Td>
                    <Table.Td>{r.metadata.name}</Table.Td>
                    <Table.Td>{age(r.metadata.creationTimestamp)}</Table.Td>
                  </Table.Tr>
                ))}
            </Table.Tbody>
          </Table>
        </Tabs.Panel>
        <Tabs.Panel value="yaml" pt="md">
          {tab === 'yaml' ? (
            <YamlEditor
              key={o.metadata.resourceVersion}
              initial={o}
              save={can.update ? (next, dryRun) => platform.replace(kind, { ...next, metadata: { ...next.metadata, namespace: ns } }, dryRun) : undefined}
              onDone={() => {
                obj.reload();
                setParams({});
              }}
            />
          ) : null}
        </Tabs.Panel>
      </Tabs>
      {openRevision !== undefined && restartable ? <RevisionDialog ns={ns} workload={kindName} name={name} revision={openRevision} onClose={() => setOpenRevision(undefined)} /> : null}
      {scaling ? (
        <ScaleDialog
          kind={kind}
          ns={ns}
          obj={o}
          onClose={(changed) => {
            setScaling(false);
            if (changed) obj.reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDelete
          what={t(`kind.${kindName}` as MessageKey)}
          name={name}
          onConfirm={() => platform.remove(kind, name, ns)}
          onClose={(done) => {
            setDeleting(false);
            if (done) navigate(`/projects/${ns}/workloads/${kindName}`);
          }}
        />
      ) : null}
    </div>
  );
}

/** One revision as the resources API returns it, shown read-only. */
function RevisionDialog({ ns, workload, name, revision, onClose }: { ns: string; workload: 'deployments' | 'statefulsets' | 'daemonsets'; name: string; revision: number; onClose: () => void }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const rev = useAsync(() => platform.revision(ns, workload, name, revision), [ns, workload, name, revision]);
  return (
    <Modal opened onClose={onClose} title={t('detail.revisionNamed', { n: revision })} size="xl">
      <ErrorAlert error={rev.error} onRetry={rev.reload} />
      {rev.loading && !rev.data ? <Loading /> : null}
      {rev.data ? <YamlEditor initial={rev.data} /> : null}
    </Modal>
  );
}
