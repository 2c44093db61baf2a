// Pieces several pages share: ages, status badges, a delete confirmation, members and roles lists.

import { Badge, Button, Group, Modal, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { messageOf } from '../api/errors';
import type { ListQuery } from '../api/query';
import { ANNOTATIONS, type K8sObject, type ListResult, type User } from '../api/types';
import { useAsync } from '../app/hooks';
import { ResourceTable } from '../components/ResourceTable';
import { useI18n, type MessageKey } from '../i18n';
import { en } from '../i18n/en';

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '-';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function StateBadge({ state }: { state: string | undefined }) {
  const color = { Active: 'green', Running: 'green', running: 'green', Ready: 'green', Bound: 'green', Succeeded: 'green', Disabled: 'gray', stopped: 'gray', AuthLimitExceeded: 'red', Failed: 'red', updating: 'blue', Pending: 'yellow', Terminating: 'orange' }[state ?? ''] ?? 'gray';
  const { t } = useI18n();
  const key = `status.${state}`;
  const label = state && key in en ? t(key as MessageKey) : (state ?? '-');
  return (
    <Badge color={color} variant="light">
      {label}
    </Badge>
  );
}

export function alias(obj: K8sObject): string | undefined {
  return obj.metadata.annotations?.[ANNOTATIONS.alias];
}

export function PageTitle({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Group justify="space-between" mb="md">
      <Title order={2}>{title}</Title>
      <Group>{children}</Group>
    </Group>
  );
}

/** Asks before deleting; shows progress and the server's answer in words. */
export function ConfirmDelete({ what, name, onConfirm, onClose }: { what: string; name: string; onConfirm: () => Promise<unknown>; onClose: (deleted: boolean) => void }) {
  const { t } = useI18n();
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm();
      onClose(true);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={t('delete.title', { what })}>
      <Stack>
        <Text size="sm">{t('delete.confirm', { what, name })}</Text>
        <TextInput label={t('delete.typeName', { name })} value={typed} onChange={(e) => setTyped(e.currentTarget.value)} data-autofocus />
        {error ? (
          <Text c="red" size="sm" role="alert">
            {error}
          </Text>
        ) : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={() => onClose(false)}>
            {t('action.cancel')}
          </Button>
          <Button color="red" onClick={run} loading={busy} disabled={typed !== name} data-testid="confirm-delete">
            {t('action.delete')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export function roleOf(user: User, annotation: string): string {
  return user.metadata.annotations?.[annotation] ?? '-';
}

/** Members of a workspace or a project, with invite and remove when allowed. */
export function Members({
  list,
  roles,
  roleAnnotation,
  canManage,
  add,
  change,
  remove,
}: {
  list: (q: ListQuery, signal: AbortSignal) => Promise<ListResult<User>>;
  roles: (signal: AbortSignal) => Promise<string[]>;
  roleAnnotation: string;
  canManage: boolean;
  add: (username: string, role: string) => Promise<unknown>;
  change: (username: string, role: string) => Promise<unknown>;
  remove: (username: string) => Promise<unknown>;
}) {
  const { t } = useI18n();
  const [reload, setReload] = useState(0);
  const [inviting, setInviting] = useState(false);
  const [changing, setChanging] = useState<User>();
  const [removing, setRemoving] = useState<string>();
  return (
    <>
      <ResourceTable<User>
        label={t('menu.members')}
        fetch={list}
        reloadKey={reload}
        rowKey={(u) => u.metadata.name}
        initialSort="name"
        columns={[
          { key: 'name', title: t('col.name'), render: (u) => u.metadata.name, sortBy: 'name' },
          { key: 'role', title: t('col.role'), render: (u) => roleOf(u, roleAnnotation) },
          { key: 'state', title: t('col.status'), render: (u) => <StateBadge state={u.status?.state} /> },
          ...(canManage
            ? [
                {
                  key: 'actions',
                  title: t('col.actions'),
                  render: (u: User) => (
                    <Group gap={4} wrap="nowrap">
                      <Button size="xs" variant="subtle" onClick={() => setChanging(u)} aria-label={t('members.changeRoleOf', { name: u.metadata.name })}>
                        {t('members.changeRole')}
                      </Button>
                      <Button size="xs" variant="subtle" color="red" onClick={() => setRemoving(u.metadata.name)} aria-label={t('members.removeNamed', { name: u.metadata.name })}>
                        {t('members.remove')}
                      </Button>
                    </Group>
                  ),
                },
              ]
            : []),
        ]}
        toolbar={
          canManage ? (
            <Button onClick={() => setInviting(true)} data-testid="invite-member">
              {t('members.invite')}
            </Button>
          ) : null
        }
      />
      {inviting ? (
        <InviteMember
          roles={roles}
          add={add}
          onClose={(done) => {
            setInviting(false);
            if (done) setReload((r) => r + 1);
          }}
        />
      ) : null}
      {changing ? (
        <ChangeRole
          user={changing.metadata.name}
          current={roleOf(changing, roleAnnotation)}
          roles={roles}
          change={change}
          onClose={(done) => {
            setChanging(undefined);
            if (done) setReload((r) => r + 1);
          }}
        />
      ) : null}
      {removing ? (
        <ConfirmDelete
          what={t('members.member')}
          name={removing}
          onConfirm={() => remove(removing)}
          onClose={(done) => {
            setRemoving(undefined);
            if (done) setReload((r) => r + 1);
          }}
        />
      ) : null}
    </>
  );
}

function InviteMember({ roles, add, onClose }: { roles: (signal: AbortSignal) => Promise<string[]>; add: (u: string, r: string) => Promise<unknown>; onClose: (done: boolean) => void }) {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<string | null>(null);
  const loaded = useAsync(roles, []);
  const options = loaded.data;
  const [failed, setError] = useState<string>();
  const error = failed ?? (loaded.error ? messageOf(loaded.error) : undefined);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (!username || !role) return;
    setBusy(true);
    setError(undefined);
    try {
      await add(username.trim(), role);
      onClose(true);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={t('members.invite')}>
      <Stack>
        <TextInput label={t('members.username')} value={username} onChange={(e) => setUsername(e.currentTarget.value)} required data-autofocus />
        <Select label={t('col.role')} data={options ?? []} value={role} onChange={setRole} required placeholder={options ? undefined : t('state.loading')} />
        {error ? (
          <Text c="red" size="sm" role="alert">
            {error}
          </Text>
        ) : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={() => onClose(false)}>
            {t('action.cancel')}
          </Button>
          <Button onClick={submit} loading={busy} disabled={!username || !role} data-testid="invite-submit">
            {t('members.invite')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** Gives a member another role at the same level (the members API replaces the binding). */
function ChangeRole({ user, current, roles, change, onClose }: { user: string; current: string; roles: (signal: AbortSignal) => Promise<string[]>; change: (u: string, r: string) => Promise<unknown>; onClose: (done: boolean) => void }) {
  const { t } = useI18n();
  const [role, setRole] = useState<string | null>(current === '-' ? null : current);
  const loaded = useAsync(roles, []);
  const [failed, setError] = useState<string>();
  const error = failed ?? (loaded.error ? messageOf(loaded.error) : undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!role) return;
    setBusy(true);
    setError(undefined);
    try {
      await change(user, role);
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={t('members.changeRoleOf', { name: user })}>
      <form onSubmit={submit}>
        <Stack>
          <Text size="sm">{t('members.currentRole', { role: current })}</Text>
          <Select label={t('col.role')} data={loaded.data ?? []} value={role} onChange={setRole} required allowDeselect={false} placeholder={loaded.data ? undefined : t('state.loading')} data-autofocus />
          {error ? (
            <Text c="red" size="sm" role="alert">
              {error}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => onClose(false)}>
              {t('action.cancel')}
            </Button>
            <Button type="submit" loading={busy} disabled={!role || role === current} data-testid="change-role-submit">
              {t('action.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
