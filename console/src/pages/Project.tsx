// One project: its menu (from the namespace-scope role templates) and its pages.

import { Card, Group, Text } from '@mantine/core';
import { lazy, useMemo } from 'react';
import { Navigate, Route, Routes, useParams } from 'react-router-dom';
import { holds, PROJECT_MENU, visible } from '../api/permissions';
import { ANNOTATIONS } from '../api/types';
import { useApp } from '../app/context';
import { useTemplates } from '../app/hooks';
import { SideMenu } from '../app/Layout';
import { Loading } from '../components/Feedback';
import { useI18n } from '../i18n';
import { Members, PageTitle } from './common';
import { RolesPage } from './Roles';

const Workloads = lazy(() => import('./Workloads'));
const WorkloadDetail = lazy(() => import('./WorkloadDetail'));
const Resources = lazy(() => import('./Resources'));

export default function Project() {
  const { ns = '' } = useParams();
  const { t } = useI18n();
  const templates = useTemplates('namespace', { namespace: ns });
  if (!templates) return <Loading />;
  const entries = visible(PROJECT_MENU, templates);
  const first = entries[0]?.path;
  return (
    <Group align="flex-start" wrap="nowrap">
      <Card withBorder w={200} p="xs">
        <Text fw={700} mb="xs" truncate>
          {ns}
        </Text>
        <SideMenu entries={entries} base={`/projects/${ns}`} label={t('menu.project')} />
      </Card>
      <div style={{ flex: 1, minWidth: 0 }}>
        <Routes>
          <Route index element={first ? <Navigate to={first} replace /> : <Text c="dimmed">{t('projects.nothingVisible')}</Text>} />
          <Route path="workloads/:kind" element={<Workloads ns={ns} />} />
          <Route path="workloads/:kind/:name" element={<WorkloadDetail ns={ns} />} />
          <Route path="members" element={<ProjectMembers ns={ns} canManage={holds(templates, 'namespace-manage-members')} />} />
          <Route path="roles" element={<ProjectRoles ns={ns} canManage={holds(templates, 'namespace-manage-roles')} />} />
          <Route path=":plural/*" element={<Resources ns={ns} />} />
        </Routes>
      </div>
    </Group>
  );
}

function ProjectMembers({ ns, canManage }: { ns: string; canManage: boolean }) {
  const { platform } = useApp();
  const { t } = useI18n();
  return (
    <div>
      <PageTitle title={t('menu.members')} />
      <Members
        list={(q, s) => platform.projectMembers(ns, q, s)}
        roles={async (s) => (await platform.projectRoles(ns, { page: 1, limit: 100 }, s)).items.map((r) => r.metadata.name)}
        roleAnnotation={ANNOTATIONS.role}
        canManage={canManage}
        add={(username, roleRef) => platform.addProjectMembers(ns, [{ username, roleRef }])}
        change={(username, roleRef) => platform.updateProjectMember(ns, { username, roleRef })}
        remove={(u) => platform.removeProjectMember(ns, u)}
      />
    </div>
  );
}

function ProjectRoles({ ns, canManage }: { ns: string; canManage: boolean }) {
  const { t } = useI18n();
  const at = useMemo(() => ({ scope: 'namespace' as const, namespace: ns }), [ns]);
  return <RolesPage at={at} title={t('menu.projectRoles')} canManage={canManage} />;
}
