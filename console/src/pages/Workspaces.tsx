// Workspaces: list (only those the caller may see), create and delete.

import { Anchor, Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { messageOf } from '../api/errors';
import { holds } from '../api/permissions';
import type { K8sObject } from '../api/types';
import { useApp } from '../app/context';
import { useTemplates } from '../app/hooks';
import { ResourceTable } from '../components/ResourceTable';
import { useI18n } from '../i18n';
import { age, alias, ConfirmDelete, PageTitle } from './common';
import { nameProblem } from './forms';

export default function Workspaces() {
  const { platform } = useApp();
  const { t } = useI18n();
  const templates = useTemplates('global');
  const canCreate = templates ? holds(templates, 'global-create-workspaces') || holds(templates, 'global-manage-workspaces') : false;
  const canDelete = templates ? holds(templates, 'global-manage-workspaces') : false;
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<string>();
  const [reload, setReload] = useState(0);
  return (
    <div>
      <PageTitle title={t('menu.workspaces')} />
      <ResourceTable<K8sObject>
        label={t('menu.workspaces')}
        fetch={(q, signal) => platform.workspaces(q, signal)}
        reloadKey={reload}
        rowKey={(w) => w.metadata.name}
        columns={[
          {
            key: 'name',
            title: t('col.name'),
            sortBy: 'name',
            render: (w) => (
              <Anchor component={Link} to={`/workspaces/${w.metadata.name}`}>
                {w.metadata.name}
              </Anchor>
            ),
          },
          { key: 'alias', title: t('col.alias'), render: (w) => alias(w) ?? '' },
          { key: 'manager', title: t('workspaces.manager'), render: (w) => String((w.spec as { template?: { spec?: { manager?: string } } } | undefined)?.template?.spec?.manager ?? '-') },
          { key: 'created', title: t('col.created'), render: (w) => age(w.metadata.creationTimestamp), sortBy: 'createTime' },
          ...(canDelete
            ? [
                {
                  key: 'actions',
                  title: t('col.actions'),
                  render: (w: K8sObject) => (
                    <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(w.metadata.name)} aria-label={t('action.deleteNamed', { name: w.metadata.name })}>
                      {t('action.delete')}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
        toolbar={
          canCreate ? (
            <Button onClick={() => setCreating(true)} data-testid="create-workspace">
              {t('workspaces.create')}
            </Button>
          ) : null
        }
      />
      {creating ? (
        <CreateWorkspace
          onClose={(done) => {
            setCreating(false);
            if (done) setReload((r) => r + 1);
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDelete
          what={t('workspaces.workspace')}
          name={deleting}
          onConfirm={() => platform.deleteWorkspace(deleting)}
          onClose={(done) => {
            setDeleting(undefined);
            if (done) setReload((r) => r + 1);
          }}
        />
      ) : null}
    </div>
  );
}

function CreateWorkspace({ onClose }: { onClose: (done: boolean) => void }) {
  const { platform, session } = useApp();
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [aliasName, setAlias] = useState('');
  const [manager, setManager] = useState(session?.username ?? '');
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
      await platform.createWorkspace({ name, manager, alias: aliasName, description });
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={t('workspaces.create')}>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label={t('col.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} error={problem} required data-autofocus description={t('form.nameRules')} />
          <TextInput label={t('col.alias')} value={aliasName} onChange={(e) => setAlias(e.currentTarget.value)} />
          <TextInput label={t('workspaces.manager')} value={manager} onChange={(e) => setManager(e.currentTarget.value)} required />
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
            <Button type="submit" loading={busy} data-testid="workspace-submit">
              {t('action.create')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

