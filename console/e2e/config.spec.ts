// ConfigMaps and Secrets created and edited from forms; a Secret's values stay hidden until revealed.
import { ADMIN_PASSWORD, ensureWorkspaceAndProject, expect, login, PROJECT, test, token } from './helpers';

test.describe.configure({ mode: 'serial' });

async function read(request: import('@playwright/test').APIRequestContext, admin: string, path: string) {
  const res = await request.get(path, { headers: { Authorization: `Bearer ${admin}` } });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()) as { data?: Record<string, string>; type?: string };
}

test('create a ConfigMap from the form, see its data, edit it', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  await ensureWorkspaceAndProject(request, admin);
  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);
  await page.goto(`/projects/${PROJECT}/configmaps`);

  await page.getByTestId('create-form').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Name/).fill('app-config');
  await dialog.getByTestId('key-0').fill('mode');
  await dialog.getByTestId('value-input-0').fill('fast');
  await dialog.getByTestId('add-row').click();
  // A key Kubernetes would refuse is caught in the form.
  await dialog.getByTestId('key-1').fill('bad key');
  await dialog.getByTestId('value-input-1').fill('x');
  await page.getByTestId('form-submit').click();
  await expect(dialog).toContainText('Use letters, digits');
  await dialog.getByTestId('key-1').fill('app.properties');
  await dialog.getByTestId('value-input-1').fill('color=blue');
  await page.getByTestId('form-submit').click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'app-config' })).toBeVisible();
  expect((await read(request, admin, `/api/v1/namespaces/${PROJECT}/configmaps/app-config`)).data).toEqual({ mode: 'fast', 'app.properties': 'color=blue' });

  await page.getByRole('link', { name: 'app-config' }).click();
  await expect(page.getByTestId('value-mode')).toHaveText('fast');
  await page.getByTestId('edit-form').click();
  await page.getByRole('dialog').getByTestId('value-input-0').fill('slow');
  await page.getByTestId('form-submit').click();
  await expect(page.getByTestId('value-mode')).toHaveText('slow');
  expect((await read(request, admin, `/api/v1/namespaces/${PROJECT}/configmaps/app-config`)).data?.mode).toBe('slow');
});

test('create a Secret from the form; its values are hidden until revealed', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  await ensureWorkspaceAndProject(request, admin);
  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);
  await page.goto(`/projects/${PROJECT}/secrets`);

  await page.getByTestId('create-form').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Name/).fill('db-credentials');
  await dialog.getByTestId('key-0').fill('password');
  const input = dialog.getByTestId('value-input-0');
  await input.fill('S3cr3t-Value');
  // Typed values are masked too.
  await expect(input).toHaveAttribute('type', 'password');
  await dialog.getByTestId('add-row').click();
  await dialog.getByTestId('key-1').fill('username');
  await dialog.getByTestId('value-input-1').fill('app');
  await page.getByTestId('form-submit').click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'db-credentials' })).toBeVisible();

  // Stored base64-encoded in data, as Kubernetes expects.
  const stored = await read(request, admin, `/api/v1/namespaces/${PROJECT}/secrets/db-credentials`);
  expect(stored.type).toBe('Opaque');
  expect(stored.data).toEqual({ password: Buffer.from('S3cr3t-Value').toString('base64'), username: Buffer.from('app').toString('base64') });

  await page.getByRole('link', { name: 'db-credentials' }).click();
  await expect(page.getByRole('button', { name: 'Reveal the value of password' })).toBeVisible();
  await expect(page.getByTestId('value-password')).toHaveCount(0);
  // Neither the decoded nor the encoded value is anywhere on the page (not in the YAML view either).
  await expect(page.getByTestId('yaml-editor')).toContainText('db-credentials');
  await expect(page.locator('body')).not.toContainText('S3cr3t-Value');
  await expect(page.locator('body')).not.toContainText(stored.data?.password ?? '-');

  await page.getByRole('button', { name: 'Reveal the value of password' }).click();
  await expect(page.getByTestId('value-password')).toHaveText('S3cr3t-Value');
  // Revealing one key reveals only that key.
  await expect(page.getByTestId('value-username')).toHaveCount(0);

  // Editing from the form keeps unrevealed values as they are and encodes the new ones.
  await page.getByTestId('edit-form').click();
  const edit = page.getByRole('dialog');
  await expect(edit.getByRole('button', { name: 'Reveal the value of username' })).toBeVisible();
  await edit.getByRole('button', { name: 'Reveal the value of password' }).click();
  await expect(edit.getByTestId('value-input-0')).toHaveValue('S3cr3t-Value');
  await edit.getByTestId('value-input-0').fill('N3w-Value');
  await page.getByTestId('form-submit').click();
  await expect(edit).toHaveCount(0);
  const after = await read(request, admin, `/api/v1/namespaces/${PROJECT}/secrets/db-credentials`);
  expect(after.data).toEqual({ password: Buffer.from('N3w-Value').toString('base64'), username: Buffer.from('app').toString('base64') });
});

test('create a Service and a PersistentVolumeClaim from forms', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  await ensureWorkspaceAndProject(request, admin);
  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);

  await page.goto(`/projects/${PROJECT}/services`);
  await page.getByTestId('create-form').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Name/).fill('web-svc');
  await dialog.getByTestId('value-input-0').fill('web');
  await dialog.getByLabel(/^Port$/).fill('80');
  await dialog.getByLabel(/^Target port/).fill('8080');
  await page.getByTestId('form-submit').click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'web-svc' })).toBeVisible();
  const svc = (await (await request.get(`/api/v1/namespaces/${PROJECT}/services/web-svc`, { headers: { Authorization: `Bearer ${admin}` } })).json()) as { spec: { selector: Record<string, string>; ports: { port: number; targetPort: number }[] } };
  expect(svc.spec.selector).toEqual({ app: 'web' });
  expect(svc.spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080 });

  await page.goto(`/projects/${PROJECT}/persistentvolumeclaims`);
  await page.getByTestId('create-form').click();
  await dialog.getByLabel(/^Name/).fill('data');
  await dialog.getByLabel(/^Size/).fill('ten');
  await page.getByTestId('form-submit').click();
  await expect(dialog).toContainText('A size is a number with a unit');
  await dialog.getByLabel(/^Size/).fill('2Gi');
  await page.getByTestId('form-submit').click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'data' })).toBeVisible();
  const pvc = (await (await request.get(`/api/v1/namespaces/${PROJECT}/persistentvolumeclaims/data`, { headers: { Authorization: `Bearer ${admin}` } })).json()) as { spec: { resources: { requests: { storage: string } }; accessModes: string[] } };
  expect(pvc.spec.resources.requests.storage).toBe('2Gi');
  expect(pvc.spec.accessModes).toEqual(['ReadWriteOnce']);
});
