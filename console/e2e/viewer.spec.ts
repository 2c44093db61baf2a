// A project viewer reads everything in the project and changes nothing; the API refuses anyway.
import { addProjectMember, ADMIN_PASSWORD, ensureUser, ensureWorkspaceAndProject, expect, loginReady, PROJECT, test, token, USER_PASSWORD, VIEWER } from './helpers';

test('a viewer has a read-only view', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  await ensureWorkspaceAndProject(request, admin);
  await ensureUser(request, admin, VIEWER, USER_PASSWORD);
  await addProjectMember(request, admin, VIEWER, 'viewer');
  const cm = await request.post(`/api/v1/namespaces/${PROJECT}/configmaps`, { headers: { Authorization: `Bearer ${admin}` }, data: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seen-by-viewer' }, data: { a: 'b' } } });
  expect([200, 201, 409], await cm.text()).toContain(cm.status());

  const password = await loginReady(page, VIEWER, USER_PASSWORD);
  await page.goto(`/projects/${PROJECT}/workloads/deployments`);
  await expect(page.getByTestId('resource-table')).toBeVisible();
  // A project viewer may list what the project holds: the list loads without a refusal.
  await expect(page.getByTestId('resource-table')).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('create-form')).toHaveCount(0);
  await expect(page.getByTestId('create-yaml')).toHaveCount(0);
  await expect(page.getByRole('columnheader', { name: 'Actions' })).toHaveCount(0);

  await page.getByTestId('menu-configmaps').click();
  await page.getByRole('link', { name: 'seen-by-viewer' }).click();
  await expect(page.getByTestId('edit-yaml')).toHaveCount(0);
  await expect(page.getByTestId('edit-form')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Save' })).toHaveCount(0);

  // Members and roles are read-only too: no role changes, no removals, no role editing.
  await page.getByTestId('menu-members').click();
  await expect(page.getByRole('cell', { name: VIEWER, exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Change the role of/ })).toHaveCount(0);
  await expect(page.getByTestId('invite-member')).toHaveCount(0);
  await page.getByTestId('menu-projectRoles').click();
  await expect(page.getByRole('cell', { name: /^viewer/ })).toBeVisible();
  await expect(page.getByTestId('create-role')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Edit role/ })).toHaveCount(0);

  const mine = await token(request, VIEWER, password);
  const res = await request.post(`/apis/apps/v1/namespaces/${PROJECT}/deployments`, {
    headers: { Authorization: `Bearer ${mine}` },
    data: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nope' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } },
  });
  expect(res.status()).toBe(403);
});
