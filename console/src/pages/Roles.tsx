// Roles at one level (platform, workspace, project): list, and for managers create, edit (by role templates) and delete custom roles.

import { Badge, Button, Checkbox, Group, Modal, ScrollArea, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { messageOf } from '../api/errors';
import { Platform } from '../api/platform';
import { ANNOTATIONS, type RoleLevel } from '../api/types';
import { useApp } from '../app/context';
import { clearPermissionCache, useAsync } from '../app/hooks';
import { Loading } from '../components/Feedback';
import { ResourceTable } from '../components/ResourceTable';
import { useI18n, type T } from '../i18n';
import { age, ConfirmDelete, PageTitle } from './common';
import { nameProblem } from './forms';
import { groupTemplates, humanize, isBuiltinRole, roleFromForm, shownRoleName, storedRoleName, templatesOfRole, toggleTemplate, type RoleObject } from './roles';

/** How many templates a role is made of; a role written as plain rules (platform-admin) says so instead. */
function permissionSummary(r: RoleObject, t: T): string {
  const n = templatesOfRole(r).length;
  if (n) return t('roles.templateCount', { n });
  return r.rules?.length ? t('roles.ruleCount', { n: r.rules.length }) : t('roles.none');
}

type Dialog = { kind: 'create' } | { kind: 'edit'; role: RoleObject } | { kind: 'delete'; role: RoleObject };

export function RolesPage({ at, title, canManage }: { at: RoleLevel; title: string; canManage: boolean }) {
  const { platform } = useApp();
  const { t } = useI18n();
  const [dialog, setDialog] = useState<Dialog>();
  const [reload, setReload] = useState(0);
  const close = (changed: boolean) => {
    setDialog(undefined);
    if (changed) {
      // The caller's own permissions may have come from the role just changed.
      clearPermissionCache();
      setReload((r) => r + 1);
    }
  };
  return (
    <div>
      <PageTitle title={title} />
      <ResourceTable<RoleObject>
        label={title}
        fetch={(q, s) => platform.roles(at, q, s)}
        reloadKey={reload}
        deps={[Platform.rolesPath(at)]}
        rowKey={(r) => r.metadata.name}
        initialSort="name"
        columns={[
          {
            key: 'name',
            title: t('col.name'),
            sortBy: 'name',
            render: (r) => (
              <Group gap="xs">
                <Text size="sm">{shownRoleName(at, r.metadata.name)}</Text>
                {isBuiltinRole(at, r.metadata.name) ? (
                  <Badge size="xs" variant="light" color="gray">
                    {t('roles.builtin')}
                  </Badge>
                ) : null}
              </Group>
            ),
          },
          { key: 'description', title: t('col.description'), render: (r) => r.metadata.annotations?.[ANNOTATIONS.description] ?? r.metadata.annotations?.[ANNOTATIONS.alias] ?? '' },
          { key: 'templates', title: t('roles.permissions'), render: (r) => permissionSummary(r, t) },
          { key: 'created', title: t('col.created'), render: (r) => age(r.metadata.creationTimestamp), sortBy: 'createTime' },
          ...(canManage
            ? [
                {
                  key: 'actions',
                  title: t('col.actions'),
                  render: (r: RoleObject) =>
                    isBuiltinRole(at, r.metadata.name) ? null : (
                      <Group gap={4} wrap="nowrap">
                        <Button size="xs" variant="subtle" onClick={() => setDialog({ kind: 'edit', role: r })} aria-label={t('roles.editNamed', { name: shownRoleName(at, r.metadata.name) })}>
                          {t('action.edit')}
                        </Button>
                        <Button size="xs" variant="subtle" color="red" onClick={() => setDialog({ kind: 'delete', role: r })} aria-label={t('action.deleteNamed', { name: shownRoleName(at, r.metadata.name) })}>
                          {t('action.delete')}
                        </Button>
                      </Group>
                    ),
                },
              ]
            : []),
        ]}
        toolbar={
          canManage ? (
            <Button onClick={() => setDialog({ kind: 'create' })} data-testid="create-role">
              {t('roles.create')}
            </Button>
          ) : null
        }
      />
      {dialog?.kind === 'create' || dialog?.kind === 'edit' ? <RoleDialog at={at} role={dialog.kind === 'edit' ? dialog.role : undefined} onClose={close} /> : null}
      {dialog?.kind === 'delete' ? (
        <ConfirmDelete what={t('roles.role')} name={dialog.role.metadata.name} onConfirm={() => platform.deleteRole(at, dialog.role.metadata.name)} onClose={close} />
      ) : null}
    </div>
  );
}

function RoleDialog({ at, role, onClose }: { at: RoleLevel; role?: RoleObject; onClose: (changed: boolean) => void }) {
  const { platform, session } = useApp();
  const { t, lang } = useI18n();
  const [name, setName] = useState(role ? shownRoleName(at, role.metadata.name) : '');
  const [description, setDescription] = useState(role?.metadata.annotations?.[ANNOTATIONS.description] ?? '');
  const [selected, setSelected] = useState<string[]>(role ? templatesOfRole(role) : []);
  const [problem, setProblem] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // Only templates the caller holds can be granted (the server checks escalation anyway).
  const templates = useAsync((signal) => platform.roleTemplateObjects(session?.username ?? '', at, signal), [at.scope, session?.username]);
  const available = (templates.data ?? []).map((x) => x.metadata.name);
  const groups = groupTemplates(templates.data ?? [], lang);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // The stored name of a workspace role carries the workspace prefix; check that length.
    const p = role ? undefined : nameProblem(name.trim()) ?? nameProblem(storedRoleName(at, name.trim()));
    setProblem(p ? t(p) : undefined);
    if (p) return;
    if (!selected.length) {
      setError(t('roles.noTemplates'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const obj = roleFromForm(at, { name, description, templates: selected }, role);
      await (role ? platform.updateRole(at, obj) : platform.createRole(at, obj));
      onClose(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened onClose={() => onClose(false)} title={role ? t('roles.editNamed', { name }) : t('roles.create')} size="lg">
      <form onSubmit={submit}>
        <Stack>
          <TextInput label={t('col.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={!!role} error={problem} required data-autofocus description={t('form.nameRules')} />
          <TextInput label={t('col.description')} value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          <Text fw={600} size="sm">
            {t('roles.permissions')}
          </Text>
          {templates.loading && !templates.data ? <Loading /> : null}
          {templates.error ? (
            <Text c="red" size="sm" role="alert">
              {messageOf(templates.error)}
            </Text>
          ) : null}
          <ScrollArea.Autosize mah={360} type="auto">
            <Stack gap="sm">
              {groups.map((g) => (
                <fieldset key={g.category} className="template-group">
                  <legend>{humanize(g.category)}</legend>
                  <Group gap="md">
                    {g.templates.map((x) => (
                      <Checkbox
                        key={x.name}
                        label={x.label}
                        value={x.name}
                        checked={selected.includes(x.name)}
                        onChange={(e) => setSelected(toggleTemplate(selected, x.name, e.currentTarget.checked, available))}
                        data-testid={`template-${x.name}`}
                      />
                    ))}
                  </Group>
                </fieldset>
              ))}
            </Stack>
          </ScrollArea.Autosize>
          {error ? (
            <Text c="red" size="sm" role="alert">
              {error}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => onClose(false)}>
              {t('action.cancel')}
            </Button>
            <Button type="submit" loading={busy} data-testid="role-submit">
              {role ? t('action.save') : t('action.create')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
