// Members' roles: an administrator changes a project member's and a workspace member's role, then removes them.
import { addProjectMember, ADMIN_PASSWORD, ensureUser, ensureWorkspaceAndProject, expect, login, PROJECT, test, token, USER_PASSWORD, WS } from './helpers';

const MEMBER = 'e2e-member';
const IAM = '/kapis/iam.kubesphere.io/v1beta1';

test.describe.configure({ mode: 'serial' });

test('change a project member\'s role, then remove the member', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  await ensureWorkspaceAndProject(request, admin);
  await ensureUser(request, admin, MEMBER, USER_PASSWORD);
  await addProjectMember(request, admin, MEMBER, 'viewer');

  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);
  await page.goto(`/projects/${PROJECT}/members`);
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: MEMBER, exact: true }) });
  await expect(row.getByRole('cell', { name: 'viewer', exact: true })).toBeVisible();

  await row.getByRole('button', { name: `Change the role of ${MEMBER}` }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Current role: viewer');
  await dialog.getByLabel(/^Role/).click();
  await page.getByRole('option', { name: 'operator', exact: true }).click();
  await page.getByTestId('change-role-submit').click();
  await expect(dialog).toHaveCount(0);
  await expect(row.getByRole('cell', { name: 'operator', exact: true })).toBeVisible();

  // The API agrees: one binding, to the new role.
  const got = await request.get(`${IAM}/namespaces/${PROJECT}/namespacemembers/${MEMBER}`, { headers: { Authorization: `Bearer ${admin}` } });
  expect(got.status(), await got.text()).toBe(200);
  expect(((await got.json()) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['iam.kubesphere.io/role']).toBe('operator');

  await row.getByRole('button', { name: `Remove ${MEMBER}` }).click();
  await page.getByLabel(`Type ${MEMBER} to confirm`).fill(MEMBER);
  await page.getByTestId('confirm-delete').click();
  await expect(page.getByRole('cell', { name: MEMBER, exact: true })).toHaveCount(0);
  const gone = await request.get(`${IAM}/namespaces/${PROJECT}/namespacemembers/${MEMBER}`, { headers: { Authorization: `Bearer ${admin}` } });
  expect(gone.status()).toBe(404);
});

test('change a workspace member\'s role', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  await ensureWorkspaceAndProject(request, admin);
  await ensureUser(request, admin, MEMBER, USER_PASSWORD);
  const add = await request.post(`${IAM}/workspaces/${WS}/workspacemembers`, { headers: { Authorization: `Bearer ${admin}` }, data: [{ username: MEMBER, roleRef: `${WS}-viewer` }] });
  expect(add.status(), await add.text()).toBe(200);

  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);
  await page.goto(`/workspaces/${WS}/members`);
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: MEMBER, exact: true }) });
  await expect(row.getByRole('cell', { name: `${WS}-viewer`, exact: true })).toBeVisible();
  await row.getByRole('button', { name: `Change the role of ${MEMBER}` }).click();
  await page.getByRole('dialog').getByLabel(/^Role/).click();
  await page.getByRole('option', { name: `${WS}-regular`, exact: true }).click();
  await page.getByTestId('change-role-submit').click();
  await expect(row.getByRole('cell', { name: `${WS}-regular`, exact: true })).toBeVisible();

  const got = await request.get(`${IAM}/workspaces/${WS}/workspacemembers/${MEMBER}`, { headers: { Authorization: `Bearer ${admin}` } });
  expect(((await got.json()) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['iam.kubesphere.io/workspacerole']).toBe(`${WS}-regular`);
});
