// First login of the administrator: the initial password must be changed before anything else.
import { ADMIN_PASSWORD, expect, login, state, test } from './helpers';

test('first login forces a password change, then the new password works', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
  await login(page, 'admin', state().initialAdminPassword);
  await expect(page).toHaveURL(/\/password/);
  await expect(page.getByText('This is your first login')).toBeVisible();

  // Leaving the page is not possible: every route leads back to the password change.
  await page.goto('/users');
  await expect(page).toHaveURL(/\/password/);

  await page.getByLabel(/^Current password/).fill(state().initialAdminPassword);
  await page.getByLabel(/^New password/).fill('weak');
  await page.getByLabel(/^Confirm new password/).fill('weak');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('password-error')).toContainText('at least 8');

  await page.getByLabel(/^New password/).fill(ADMIN_PASSWORD);
  await page.getByLabel(/^Confirm new password/).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page).toHaveURL(/\/overview/);
  await expect(page.getByTestId('menu-users')).toBeVisible();

  await page.getByTestId('user-menu').click();
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login/);
  await login(page, 'admin', state().initialAdminPassword);
  await expect(page.getByTestId('login-error')).toBeVisible();
  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);
  await expect(page.getByTestId('count-overview.workspaces')).not.toHaveText('…');
});
