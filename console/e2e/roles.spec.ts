// Role editing: custom project, workspace and platform roles composed of role templates; built-in roles stay read-only.
import { addProjectMember, ADMIN_PASSWORD, ensureUser, ensureWorkspaceAndProject, expect, login, PROJECT, test, token, USER_PASSWORD, WS } from './helpers';

test.describe.configure({ mode: 'serial' });

interface Role {
  metadata: { annotations?: Record<string, string>; labels?: Record<string, string> };
  rules?: { resources?: string[]; verbs?: string[] }[];
  aggregationRoleTemplates?: { templateNames?: string[] };
}

async function get(request: import('@playwright/test').APIRequestContext, admin: string, path: string) {
  const res = await request.get(path, { headers: { Authorization: `Bearer ${admin}` } });
  return { status: res.status(), body: res.ok() ? ((await res.json()) as Role) : undefined };
}

test('create, edit and delete a project role, and give it to a member', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  await ensureWorkspaceAndProject(request, admin);
  await ensureUser(request, admin, 'e2e-role-user', USER_PASSWORD);
  await addProjectMember(request, admin, 'e2e-role-user', 'viewer');
  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);
  await page.goto(`/projects/${PROJECT}/roles`);

  // Built-in roles are listed but cannot be edited or deleted.
  await expect(page.getByRole('cell', { name: /^operator/ })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Edit role operator' })).toHaveCount(0);

  await page.getByTestId('create-role').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Name/).fill('cm-editor');
  await dialog.getByLabel(/^Description/).fill('Edits ConfigMaps');
  await dialog.getByTestId('template-namespace-manage-configmaps').check();
  // Managing needs viewing: the view template is ticked with it.
  await expect(dialog.getByTestId('template-namespace-view-configmaps')).toBeChecked();
  await page.getByTestId('role-submit').click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('cell', { name: 'cm-editor', exact: true })).toBeVisible();

  const created = await get(request, admin, `/apis/rbac.authorization.k8s.io/v1/namespaces/${PROJECT}/roles/cm-editor`);
  expect(created.status).toBe(200);
  expect(JSON.parse(created.body?.metadata.annotations?.['iam.kubesphere.io/aggregation-roles'] ?? '[]')).toEqual(['namespace-manage-configmaps', 'namespace-view-configmaps']);
  // The iam API wrote the templates' rules into the Role.
  expect(created.body?.rules?.some((r) => r.resources?.includes('configmaps') && r.verbs?.includes('*'))).toBe(true);
  expect(created.body?.rules?.some((r) => r.resources?.includes('secrets'))).toBe(false);

  await page.getByRole('button', { name: 'Edit role cm-editor' }).click();
  await expect(dialog.getByTestId('template-namespace-manage-configmaps')).toBeChecked();
  await dialog.getByTestId('template-namespace-view-secrets').check();
  await page.getByTestId('role-submit').click();
  await expect(dialog).toHaveCount(0);
  const edited = await get(request, admin, `/apis/rbac.authorization.k8s.io/v1/namespaces/${PROJECT}/roles/cm-editor`);
  expect(edited.body?.rules?.some((r) => r.resources?.includes('secrets'))).toBe(true);

  // The new role is offered to members.
  await page.goto(`/projects/${PROJECT}/members`);
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'e2e-role-user', exact: true }) });
  await row.getByRole('button', { name: 'Change the role of e2e-role-user' }).click();
  await page.getByRole('dialog').getByLabel(/^Role/).click();
  await page.getByRole('option', { name: 'cm-editor', exact: true }).click();
  await page.getByTestId('change-role-submit').click();
  await expect(row.getByRole('cell', { name: 'cm-editor', exact: true })).toBeVisible();

  await page.goto(`/projects/${PROJECT}/roles`);
  await page.getByRole('button', { name: 'Delete cm-editor' }).click();
  await page.getByLabel('Type cm-editor to confirm').fill('cm-editor');
  await page.getByTestId('confirm-delete').click();
  await expect(page.getByRole('cell', { name: 'cm-editor', exact: true })).toHaveCount(0);
  expect((await get(request, admin, `/apis/rbac.authorization.k8s.io/v1/namespaces/${PROJECT}/roles/cm-editor`)).status).toBe(404);
});

test('create a workspace role and a platform role from templates', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  await ensureWorkspaceAndProject(request, admin);
  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);

  await page.goto(`/workspaces/${WS}/roles`);
  await expect(page.getByRole('button', { name: 'Edit role admin' })).toHaveCount(0);
  await page.getByTestId('create-role').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Name/).fill('auditor');
  await dialog.getByTestId('template-workspace-view-members').check();
  await dialog.getByTestId('template-workspace-view-roles').check();
  await page.getByTestId('role-submit').click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('cell', { name: 'auditor', exact: true })).toBeVisible();
  const ws = await get(request, admin, `/apis/iam.kubesphere.io/v1beta1/workspaceroles/${WS}-auditor`);
  expect(ws.status).toBe(200);
  expect(ws.body?.metadata.labels?.['kubesphere.io/workspace']).toBe(WS);
  expect(ws.body?.aggregationRoleTemplates?.templateNames).toEqual(['workspace-view-members', 'workspace-view-roles']);

  await page.goto('/roles');
  await expect(page.getByRole('button', { name: 'Edit role platform-admin' })).toHaveCount(0);
  await page.getByTestId('create-role').click();
  await dialog.getByLabel(/^Name/).fill('user-auditor');
  await dialog.getByTestId('template-global-view-users').check();
  await page.getByTestId('role-submit').click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('cell', { name: 'user-auditor', exact: true })).toBeVisible();
  const global = await get(request, admin, '/apis/iam.kubesphere.io/v1beta1/globalroles/user-auditor');
  expect(global.body?.aggregationRoleTemplates?.templateNames).toEqual(['global-view-users']);

  await page.getByRole('button', { name: 'Delete user-auditor' }).click();
  await page.getByLabel('Type user-auditor to confirm').fill('user-auditor');
  await page.getByTestId('confirm-delete').click();
  await expect(page.getByRole('cell', { name: 'user-auditor', exact: true })).toHaveCount(0);
});
