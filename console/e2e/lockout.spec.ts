// Repeated bad passwords lock the account; the login page says so in words.
import { ADMIN_PASSWORD, ensureUser, expect, login, test, token, USER_PASSWORD } from './helpers';

test('an account is locked after repeated bad passwords', async ({ page, request }) => {
  await ensureUser(request, await token(request, 'admin', ADMIN_PASSWORD), 'e2e-locked', USER_PASSWORD);
  let locked = false;
  for (let i = 0; i < 12 && !locked; i++) {
    await login(page, 'e2e-locked', `wrong-${i}`);
    const error = page.getByTestId('login-error');
    await expect(error).toBeVisible();
    locked = /locked/i.test((await error.textContent()) ?? '');
  }
  // Even the right password is refused while the lock holds.
  await login(page, 'e2e-locked', USER_PASSWORD);
  await expect(page.getByTestId('login-error')).toContainText(/locked/i);
  await expect(page).toHaveURL(/\/login/);
});
