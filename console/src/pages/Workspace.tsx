// One workspace: overview, projects (create, delete), members and workspace roles.

import { Anchor, Button, Card, Group, Modal, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMemo, useState, type FormEvent } from 'react';
import { Link, Route, Routes, useParams } from 'react-router-dom';
import { messageOf } from '../api/errors';
import { holds, visible, WORKSPACE_MENU } from '../api/permissions';
import { ANNOTATIONS, type K8sObject } from '../api/types';
import { useApp } from '../app/context';
import { useAsync, useTemplates } from '../app/hooks';
import { SideMenu } from '../app/Layout';
import { ErrorAlert, Loading } from '../components/Feedback';
import { ResourceTable } from '../components/ResourceTable';
import { useI18n } from '../i18n';
import { age, alias, ConfirmDelete, Members, PageTitle, StateBadge } from './common';
import { RolesPage } from './Roles';
import { nameProblem } from './forms';

export default function Workspace() {
  const { ws = '' } = useParams();
  const { t } = useI18n();
  const templates = useTemplates('workspace', { workspace: ws });
  if (!templates) return <Loading />;
  const entries = visible(WORKSPACE_MENU, templates);
  return (
    <Group align="flex-start" wrap="nowrap">
      <Card withBorder w={200} p="xs">
        <Text fw={700} mb="xs" truncate>
          {ws}
        </Text>
        <SideMenu entries={entries} base={`/workspaces/${ws}`} label={t('menu.workspace')} />
      </Card>
      <div style={{ flex: 1, minWidth: 0 }}>
        <Routes>
          <Route index element={<WorkspaceOverview ws={ws} />} />
          <Route path="projects" element={<WorkspaceProjects ws={ws} templates={templates} />} />
          <Route path="members" element={<WorkspaceMembers ws={ws} canManage={holds(templates, 'workspace-manage-members')} />} />
          <Route path="roles" element={<WorkspaceRoles ws={ws} canManage={holds(templates, 'workspace-manage-roles')} />} />
        </Routes>
      </div>
    </Group>
  );
}

function WorkspaceOverview({ ws }: { ws: string }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const data = useAsync(async () => {
    const [w, projects, members] = await Promise.all([
      platform.workspace(ws),
      platform.projects({ page: 1, limit: 1 }, ws).catch(() => undefined),
      platform.workspaceMembers(ws, { page: 1, limit: 1 }).catch(() => undefined),
    ]);
    return { w, projects: projects?.totalItems, members: members?.totalItems };
  }, [ws]);
  return (
    <div>
      <PageTitle title={t('workspaces.overviewOf', { name: ws })} />
      <ErrorAlert error={data.error} onRetry={data.reload} />
      {data.data ? (
        <Stack>
          <Text>
            {t('col.alias')}: {alias(data.data.w) ?? '-'} · {t('workspaces.manager')}: {String((data.data.w.spec as { manager?: string } | undefined)?.manager ?? '-')} · {t('col.created')}: {age(data.data.w.metadata.creationTimestamp)}
          </Text>
          <Text>{data.data.w.metadata.annotations?.[ANNOTATIONS.description]}</Text>
          <Group>
            <Card withBorder w={180}>
              <Text c="dimmed" size="sm">
                {t('menu.projects')}
              </Text>
              <Title order={2}>{data.data.projects ?? '-'}</Title>
            </Card>
            <Card withBorder w={180}>
              <Text c="dimmed" size="sm">
                {t('menu.members')}
              </Text>
              <Title order={2}>{data.data.members ?? '-'}</Title>
            </Card>
          </Group>
        </Stack>
      ) : data.loading ? (
        <Loading />
      ) : null}
    </div>
  );
}

function WorkspaceProjects({ ws, templates }: { ws: string; templates: Set<string> }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const canCreate = holds(templates, 'workspace-create-projects') || holds(templates, 'workspace-manage-projects');
  const canDelete = holds(templates, 'workspace-manage-projects');
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<string>();
  const [reload, setReload] = useState(0);
  return (
    <div>
      <PageTitle title={t('menu.projects')} />
      <ResourceTable<K8sObject>
        label={t('menu.projects')}
        fetch={(q, signal) => platform.projects(q, ws, signal)}
        reloadKey={reload}
        deps={[ws]}
        rowKey={(p) => p.metadata.name}
        columns={[
          {
            key: 'name',
            title: t('col.name'),
            sortBy: 'name',
            render: (p) => (
              <Anchor component={Link} to={`/projects/${p.metadata.name}`}>
                {p.metadata.name}
              </Anchor>
            ),
          },
          { key: 'alias', title: t('col.alias'), render: (p) => alias(p) ?? '' },
          { key: 'status', title: t('col.status'), render: (p) => <StateBadge state={String((p.status as { phase?: string } | undefined)?.phase ?? 'Active')} /> },
          { key: 'creator', title: t('projects.creator'), render: (p) => p.metadata.annotations?.[ANNOTATIONS.creator] ?? '-' },
          { key: 'created', title: t('col.created'), render: (p) => age(p.metadata.creationTimestamp), sortBy: 'createTime' },
          ...(canDelete
            ? [
                {
                  key: 'actions',
                  title: t('col.actions'),
                  render: (p: K8sObject) => (
                    <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(p.metadata.name)} aria-label={t('action.deleteNamed', { name: p.metadata.name })}>
                      {t('action.delete')}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
        toolbar={
          canCreate ? (
            <Button onClick={() => setCreating(true)} data-testid="create-project">
              {t('projects.create')}
            </Button>
          ) : null
        }
      />
      {creating ? (
        <CreateProject
          ws={ws}
          onClose={(done) => {
            setCreating(false);
            if (done) setReload((r) => r + 1);
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDelete
          what={t('projects.project')}
          name={deleting}
          onConfirm={() => platform.deleteProject(ws, deleting)}
          onClose={(done) => {
            setDeleting(undefined);
            if (done) setReload((r) => r + 1);
          }}
        />
      ) : null}
    </div>
  );
}

function CreateProject({ ws, onClose }: { ws: string; onClose: (done: boolean) => void }) {
  const { platform, session } = useApp();
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [aliasName, setAlias] = useState('');
  const [description, setDescription] = useState('');
  const [problem, setProblem] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = nameProblem(name);
    setProblem(p ? t(p) : undefined);
    if (p) return;
    setBusy(true);
    setError(undefined);
    try {
      await platform.createProject(ws, { name, alias: aliasName, description, creator: session?.username ?? '' });
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={t('projects.create')}>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label={t('col.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} error={problem} required data-autofocus description={t('form.nameRules')} />
          <TextInput label={t('col.alias')} value={aliasName} onChange={(e) => setAlias(e.currentTarget.value)} />
          <TextInput label={t('col.description')} value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          {error ? (
            <Text c="red" size="sm" role="alert">
              {error}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => onClose(false)}>
              {t('action.cancel')}
            </Button>
            <Button type="submit" loading={busy} data-testid="project-submit">
              {t('action.create')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function WorkspaceMembers({ ws, canManage }: { ws: string; canManage: boolean }) {
  const { platform } = useApp();
  const { t } = useI18n();
  return (
    <div>
      <PageTitle title={t('menu.members')} />
      <Members
        list={(q, s) => platform.workspaceMembers(ws, q, s)}
        roles={async (s) => (await platform.workspaceRoles(ws, { page: 1, limit: 100 }, s)).items.map((r) => r.metadata.name)}
        roleAnnotation={ANNOTATIONS.workspaceRole}
        canManage={canManage}
        add={(username, roleRef) => platform.addWorkspaceMembers(ws, [{ username, roleRef }])}
        change={(username, roleRef) => platform.updateWorkspaceMember(ws, { username, roleRef })}
        remove={(u) => platform.removeWorkspaceMember(ws, u)}
      />
    </div>
  );
}

function WorkspaceRoles({ ws, canManage }: { ws: string; canManage: boolean }) {
  const { t } = useI18n();
  const at = useMemo(() => ({ scope: 'workspace' as const, workspace: ws }), [ws]);
  return <RolesPage at={at} title={t('menu.workspaceRoles')} canManage={canManage} />;
}
