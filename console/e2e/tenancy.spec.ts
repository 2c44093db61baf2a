// An administrator builds a tenant (workspace, project, user, membership); the user sees only what the role allows.
import { ADMIN_PASSWORD, expect, login, loginReady, OPERATOR, TENANT_PROJECT as PROJECT, TENANT_WS as WS, test, USER_PASSWORD } from './helpers';

test.describe.configure({ mode: 'serial' });

test('admin creates a workspace, a project, a user, and makes the user a project operator', async ({ page }) => {
  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);

  await page.getByTestId('menu-workspaces').click();
  await page.getByTestId('create-workspace').click();
  await page.getByRole('dialog').getByLabel(/^Name/).fill(WS);
  await page.getByRole('dialog').getByLabel('Alias').fill('End to end');
  await page.getByTestId('workspace-submit').click();
  await expect(page.getByRole('link', { name: WS })).toBeVisible();

  await page.getByRole('link', { name: WS }).click();
  await page.getByTestId('menu-projects').click();
  await page.getByTestId('create-project').click();
  await page.getByRole('dialog').getByLabel(/^Name/).fill(PROJECT);
  await page.getByTestId('project-submit').click();
  await expect(page.getByRole('link', { name: PROJECT })).toBeVisible();

  await page.getByTestId('menu-users').click();
  await page.getByTestId('create-user').click();
  await page.getByRole('dialog').getByLabel(/^Name/).fill(OPERATOR);
  await page.getByRole('dialog').getByLabel(/^Email/).fill(`${OPERATOR}@example.com`);
  await page.getByRole('dialog').getByLabel(/^Password/).fill(USER_PASSWORD);
  await page.getByTestId('user-submit').click();
  await page.getByTestId('search').fill(OPERATOR);
  await expect(page.getByRole('cell', { name: OPERATOR, exact: true })).toBeVisible();

  await page.goto(`/projects/${PROJECT}/members`);
  await page.getByTestId('invite-member').click();
  await page.getByLabel(/^Username/).fill(OPERATOR);
  await page.getByRole('dialog').getByLabel(/^Role/).click();
  await page.getByRole('option', { name: 'operator' }).click();
  await page.getByTestId('invite-submit').click();
  await expect(page.getByRole('cell', { name: OPERATOR, exact: true })).toBeVisible();
});

test('the operator sees the project and its workloads but not the platform pages', async ({ page }) => {
  await loginReady(page, OPERATOR, USER_PASSWORD);
  await expect(page.getByTestId('menu-workspaces')).toBeVisible();
  await expect(page.getByTestId('menu-users')).toHaveCount(0);
  await expect(page.getByTestId('menu-cluster')).toHaveCount(0);

  await page.goto(`/projects/${PROJECT}`);
  await expect(page.getByTestId('menu-workloads')).toBeVisible();
  await expect(page.getByTestId('create-form')).toBeVisible();
  await expect(page.getByTestId('resource-table')).toBeVisible();
  await expect(page.getByTestId('resource-table')).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('error')).toHaveCount(0);

  // Pages outside the user's grants: no buttons, and the API's refusal shown in words.
  await page.goto('/users');
  await expect(page.getByTestId('create-user')).toHaveCount(0);
  await expect(page.getByTestId('error')).toContainText(/permission/i);
});
