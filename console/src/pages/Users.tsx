// Platform users: create, edit, enable or disable, reset password, assign the platform role, delete.

import { Button, Group, Menu, Modal, PasswordInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { messageOf } from '../api/errors';
import type { ListQuery } from '../api/query';
import { holds } from '../api/permissions';
import { ANNOTATIONS, type User } from '../api/types';
import { useApp } from '../app/context';
import { useAsync, useTemplates } from '../app/hooks';
import { ResourceTable } from '../components/ResourceTable';
import { useI18n } from '../i18n';
import { age, ConfirmDelete, PageTitle, StateBadge } from './common';
import { emailProblem, nameProblem, passwordProblem, stateAfterUpdate } from './forms';

type Dialog = { kind: 'create' } | { kind: 'edit'; user: User } | { kind: 'password'; user: User } | { kind: 'delete'; user: User };

export default function Users() {
  const { platform } = useApp();
  const { t } = useI18n();
  const templates = useTemplates('global');
  const canManage = templates ? holds(templates, 'global-manage-users') : false;
  const [dialog, setDialog] = useState<Dialog>();
  const [reload, setReload] = useState(0);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  // The state each user was just given here, shown until the list (read from a cache that trails
  // writes by a moment) says the same.
  const [states, setStates] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string>();
  const done = (changed: boolean) => {
    setDialog(undefined);
    if (changed) setReload((r) => r + 1);
  };
  const setState = async (user: User, state: 'Active' | 'Disabled') => {
    const name = user.metadata.name;
    setError(undefined);
    setNotice(undefined);
    setBusy(name);
    try {
      // Start from the stored user, not the list row: the row may be older than a change just made.
      const fresh = await platform.user(name);
      const saved = await platform.updateUser({ ...fresh, status: { ...fresh.status, state } });
      let now = stateAfterUpdate(saved, state);
      // The answer may predate the status write (a server that sets status separately): read again.
      if (now !== state) now = stateAfterUpdate(await platform.user(name), state);
      if (now !== state) {
        setError(t('users.stateNotChanged', { name, state: t(state === 'Disabled' ? 'status.Disabled' : 'status.Active'), now: now ?? '-' }));
        return;
      }
      setStates((m) => ({ ...m, [name]: state }));
      setNotice(t(state === 'Disabled' ? 'users.disabledNotice' : 'users.enabledNotice', { name }));
      setReload((r) => r + 1);
    } catch (e) {
      setError(t(state === 'Disabled' ? 'users.disableFailed' : 'users.enableFailed', { name, reason: messageOf(e) }));
    } finally {
      setBusy(undefined);
    }
  };
  const fetchUsers = async (q: ListQuery, signal: AbortSignal) => {
    const list = await platform.users(q, signal);
    setStates((m) => {
      const left = { ...m };
      for (const u of list.items) if (left[u.metadata.name] === (u.status?.state ?? 'Active')) delete left[u.metadata.name];
      return Object.keys(left).length === Object.keys(m).length ? m : left;
    });
    return list;
  };

  return (
    <div>
      <PageTitle title={t('menu.users')} />
      {error ? (
        <Text c="red" role="alert" mb="sm" data-testid="users-error">
          {error}
        </Text>
      ) : null}
      {notice ? (
        <Text c="green" role="status" mb="sm" data-testid="users-notice">
          {notice}
        </Text>
      ) : null}
      <ResourceTable<User>
        label={t('menu.users')}
        fetch={fetchUsers}
        reloadKey={reload}
        rowKey={(u) => u.metadata.name}
        columns={[
          { key: 'name', title: t('col.name'), render: (u) => u.metadata.name, sortBy: 'name' },
          { key: 'email', title: t('users.email'), render: (u) => u.spec?.email ?? '' },
          { key: 'role', title: t('users.platformRole'), render: (u) => u.metadata.annotations?.[ANNOTATIONS.globalRole] ?? '-' },
          { key: 'state', title: t('col.status'), render: (u) => <StateBadge state={states[u.metadata.name] ?? u.status?.state ?? 'Active'} /> },
          { key: 'login', title: t('users.lastLogin'), render: (u) => (u.status?.lastLoginTime ? age(u.status.lastLoginTime) : t('users.never')) },
          { key: 'created', title: t('col.created'), render: (u) => age(u.metadata.creationTimestamp), sortBy: 'createTime' },
          ...(canManage
            ? [
                {
                  key: 'actions',
                  title: t('col.actions'),
                  render: (u: User) => (
                    <Menu>
                      <Menu.Target>
                        <Button size="xs" variant="subtle" loading={busy === u.metadata.name} aria-label={t('users.actionsFor', { name: u.metadata.name })}>
                          {t('col.actions')} ▾
                        </Button>
                      </Menu.Target>
                      <Menu.Dropdown>
                        <Menu.Item onClick={() => setDialog({ kind: 'edit', user: u })}>{t('action.edit')}</Menu.Item>
                        <Menu.Item onClick={() => setDialog({ kind: 'password', user: u })}>{t('users.resetPassword')}</Menu.Item>
                        {(states[u.metadata.name] ?? u.status?.state) === 'Disabled' ? (
                          <Menu.Item onClick={() => void setState(u, 'Active')}>{t('users.enable')}</Menu.Item>
                        ) : (
                          <Menu.Item onClick={() => void setState(u, 'Disabled')}>{t('users.disable')}</Menu.Item>
                        )}
                        <Menu.Item color="red" onClick={() => setDialog({ kind: 'delete', user: u })}>
                          {t('action.delete')}
                        </Menu.Item>
                      </Menu.Dropdown>
                    </Menu>
                  ),
                },
              ]
            : []),
        ]}
        toolbar={
          canManage ? (
            <Button onClick={() => setDialog({ kind: 'create' })} data-testid="create-user">
              {t('users.create')}
            </Button>
          ) : null
        }
      />
      {dialog?.kind === 'create' || dialog?.kind === 'edit' ? <UserDialog user={dialog.kind === 'edit' ? dialog.user : undefined} onClose={done} /> : null}
      {dialog?.kind === 'password' ? <ResetPassword user={dialog.user} onClose={done} /> : null}
      {dialog?.kind === 'delete' ? <ConfirmDelete what={t('users.user')} name={dialog.user.metadata.name} onConfirm={() => platform.deleteUser(dialog.user.metadata.name)} onClose={done} /> : null}
    </div>
  );
}

function useGlobalRoles() {
  const { platform } = useApp();
  const roles = useAsync(() => platform.globalRoles({ page: 1, limit: 100, sortBy: 'name', ascending: true }), [platform]);
  const names = roles.data?.items.map((r) => r.metadata.name).filter((n) => n !== 'anonymous' && n !== 'authenticated' && n !== 'pre-registration');
  return names?.length ? names : ['platform-admin', 'platform-regular', 'platform-self-provisioner'];
}

function UserDialog({ user, onClose }: { user?: User; onClose: (changed: boolean) => void }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const roles = useGlobalRoles();
  const [name, setName] = useState(user?.metadata.name ?? '');
  const [email, setEmail] = useState(user?.spec?.email ?? '');
  const [role, setRole] = useState<string | null>(user?.metadata.annotations?.[ANNOTATIONS.globalRole] ?? 'platform-regular');
  const [description, setDescription] = useState(user?.metadata.annotations?.[ANNOTATIONS.description] ?? '');
  const [password, setPassword] = useState('');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p: Record<string, string> = {};
    const n = user ? undefined : nameProblem(name);
    if (n) p.name = t(n);
    const m = emailProblem(email);
    if (m) p.email = t(m);
    const w = user ? undefined : passwordProblem(password, password);
    if (w) p.password = t(w);
    setProblems(p);
    if (Object.keys(p).length) return;
    setBusy(true);
    setError(undefined);
    try {
      if (user) {
        const annotations: Record<string, string> = { ...user.metadata.annotations, [ANNOTATIONS.description]: description };
        if (role) annotations[ANNOTATIONS.globalRole] = role;
        const { password: _hidden, ...spec } = user.spec ?? {};
        await platform.updateUser({ ...user, metadata: { ...user.metadata, annotations }, spec: { ...spec, email } });
      } else {
        await platform.createUser({ name, email, password, description, globalRole: role ?? undefined });
      }
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={user ? t('users.edit', { name: user.metadata.name }) : t('users.create')}>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label={t('col.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={!!user} error={problems.name} required data-autofocus />
          <TextInput label={t('users.email')} type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={problems.email} required />
          <Select label={t('users.platformRole')} data={roles} value={role} onChange={setRole} allowDeselect={false} />
          {user ? null : <PasswordInput label={t('login.password')} value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={problems.password} description={t('password.rules')} required autoComplete="new-password" />}
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
            <Button type="submit" loading={busy} data-testid="user-submit">
              {user ? t('action.save') : t('action.create')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function ResetPassword({ user, onClose }: { user: User; onClose: (changed: boolean) => void }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = passwordProblem(password, confirm);
    if (p) return setError(t(p));
    setBusy(true);
    try {
      await platform.changePassword(user.metadata.name, password);
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={t('users.resetPasswordFor', { name: user.metadata.name })}>
      <form onSubmit={submit}>
        <Stack>
          <PasswordInput label={t('password.new')} value={password} onChange={(e) => setPassword(e.currentTarget.value)} required autoComplete="new-password" data-autofocus />
          <PasswordInput label={t('password.confirm')} value={confirm} onChange={(e) => setConfirm(e.currentTarget.value)} required autoComplete="new-password" />
          {error ? (
            <Text c="red" size="sm" role="alert">
              {error}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button type="submit" loading={busy}>
              {t('action.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
