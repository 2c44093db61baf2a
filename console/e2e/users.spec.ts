// Disabling a user: the list shows the new state at once, the user cannot log in, enabling restores it; a refusal is shown in words.
import { ADMIN_PASSWORD, ensureUser, expect, login, test, token, USER_PASSWORD } from './helpers';

const USER = 'e2e-disabled';

test('disable and enable a user', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  await ensureUser(request, admin, USER, USER_PASSWORD);
  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);
  await page.goto('/users');
  await page.getByTestId('search').fill(USER);
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: USER, exact: true }) });
  await expect(row.getByText('Active', { exact: true })).toBeVisible();

  await row.getByRole('button', { name: `Actions for ${USER}` }).click();
  await page.getByRole('menuitem', { name: 'Disable' }).click();
  await expect(page.getByTestId('users-notice')).toContainText(`${USER} is now disabled`);
  await expect(row.getByText('Disabled', { exact: true })).toBeVisible();
  const stored = await request.get(`/kapis/iam.kubesphere.io/v1beta1/users/${USER}`, { headers: { Authorization: `Bearer ${admin}` } });
  expect(((await stored.json()) as { status?: { state?: string } }).status?.state).toBe('Disabled');

  // A disabled user cannot log in.
  const refused = await request.post('/oauth/token', { form: { grant_type: 'password', username: USER, password: USER_PASSWORD, client_id: 'kubesphere', client_secret: 'kubesphere' } });
  expect(refused.status()).not.toBe(200);

  await row.getByRole('button', { name: `Actions for ${USER}` }).click();
  await page.getByRole('menuitem', { name: 'Enable' }).click();
  await expect(page.getByTestId('users-notice')).toContainText(`${USER} is now active`);
  await expect(row.getByText('Active', { exact: true })).toBeVisible();

  // The server refuses to disable the caller's own account; the page says why.
  await page.getByTestId('search').fill('admin');
  const self = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'admin', exact: true }) });
  await self.getByRole('button', { name: 'Actions for admin' }).click();
  await page.getByRole('menuitem', { name: 'Disable' }).click();
  await expect(page.getByTestId('users-error')).toContainText('Could not disable admin');
  await expect(self.getByText('Active', { exact: true })).toBeVisible();
});
