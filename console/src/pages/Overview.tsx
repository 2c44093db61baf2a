// Platform overview: counts of clusters, workspaces, users, projects and pods.

import { Card, Group, Text } from '@mantine/core';
import { resourcesPath } from '../api/kinds';
import { useApp } from '../app/context';
import { useAsync, useTemplates } from '../app/hooks';
import { holds } from '../api/permissions';
import { ErrorAlert } from '../components/Feedback';
import { useI18n, type MessageKey } from '../i18n';
import { PageTitle } from './common';

function Count({ label, value }: { label: MessageKey; value: number | string | undefined }) {
  const { t } = useI18n();
  return (
    <Card withBorder w={180} padding="lg" aria-label={t(label)}>
      <Text size="sm" c="dimmed">
        {t(label)}
      </Text>
      <Text fz={32} fw={700} data-testid={`count-${label}`}>
        {value ?? '…'}
      </Text>
    </Card>
  );
}

export default function Overview() {
  const { platform } = useApp();
  const { t } = useI18n();
  const templates = useTemplates('global');
  const admin = templates ? holds(templates, 'global-view-users') : false;
  const counts = useAsync(async () => {
    // Each count is one small page; a count the caller may not read shows '-' instead of failing all.
    const safe = (p: Promise<number>) => p.catch(() => '-' as const);
    const [workspaces, projects, users, pods, clusters] = await Promise.all([
      safe(platform.count('/kapis/tenant.kubesphere.io/v1beta1/workspaces')),
      safe(platform.count('/kapis/tenant.kubesphere.io/v1beta1/namespaces')),
      admin ? safe(platform.count('/kapis/iam.kubesphere.io/v1beta1/users')) : Promise.resolve('-' as const),
      admin ? safe(platform.count(resourcesPath('pods'))) : Promise.resolve('-' as const),
      safe(platform.count('/kapis/tenant.kubesphere.io/v1beta1/clusters').then((n) => Math.max(1, n))),
    ]);
    return { workspaces, projects, users, pods, clusters: clusters === '-' ? 1 : clusters };
  }, [platform, admin]);
  return (
    <div>
      <PageTitle title={t('menu.overview')} />
      <ErrorAlert error={counts.error} onRetry={counts.reload} />
      <Group>
        <Count label="overview.clusters" value={counts.data?.clusters} />
        <Count label="overview.workspaces" value={counts.data?.workspaces} />
        <Count label="overview.projects" value={counts.data?.projects} />
        <Count label="overview.users" value={counts.data?.users} />
        <Count label="overview.pods" value={counts.data?.pods} />
      </Group>
    </div>
  );
}
