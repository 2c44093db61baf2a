// A Deployment's life in the console: create from the form and from YAML, scale, edit, delete.
import { ADMIN_PASSWORD, ensureWorkspaceAndProject, expect, login, PROJECT, test, token } from './helpers';

test.describe.configure({ mode: 'serial' });

test('create a Deployment from the form and from YAML, scale it, edit it, delete it', async ({ page, request }) => {
  await ensureWorkspaceAndProject(request, await token(request, 'admin', ADMIN_PASSWORD));
  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);
  await page.goto(`/projects/${PROJECT}/workloads/deployments`);

  await page.getByTestId('create-form').click();
  await page.getByRole('dialog').getByLabel(/^Name/).fill('web-form');
  await page.getByRole('dialog').getByLabel(/^Container image/).fill('nginx:1.27');
  await page.getByTestId('deployment-submit').click();
  await expect(page.getByRole('link', { name: 'web-form' })).toBeVisible();

  await page.getByTestId('create-yaml').click();
  const editor = page.getByTestId('yaml-editor');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // A server-side validation error (dry run) appears inline before anything is saved.
  await page.keyboard.insertText(
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-yaml\nspec:\n  replicas: -1\n  selector:\n    matchLabels:\n      app: web-yaml\n  template:\n    metadata:\n      labels:\n        app: web-yaml\n    spec:\n      containers:\n        - name: main\n          image: nginx:1.27\n',
  );
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('yaml-error')).toBeVisible();
  // Save took the focus: give it back to the editor before replacing its text.
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-yaml\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web-yaml\n  template:\n    metadata:\n      labels:\n        app: web-yaml\n    spec:\n      containers:\n        - name: main\n          image: nginx:1.27\n',
  );
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('link', { name: 'web-yaml' })).toBeVisible();

  // Search and status filter go to the server.
  await page.getByTestId('search').fill('web-y');
  await expect(page.getByRole('link', { name: 'web-form' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'web-yaml' })).toBeVisible();
  await page.getByTestId('search').fill('');

  await page.getByRole('link', { name: 'web-form' }).click();
  await page.getByTestId('scale').click();
  await page.getByRole('dialog').getByLabel('Replicas').fill('3');
  await page.getByTestId('scale-submit').click();
  await expect(page.getByTestId('replicas')).toContainText('/3');

  await page.getByRole('tab', { name: 'YAML' }).click();
  const yaml = page.getByTestId('yaml-editor');
  await expect(yaml).toContainText('web-form');
  await yaml.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  const res = await request.get(`/apis/apps/v1/namespaces/${PROJECT}/deployments/web-form`, { headers: { Authorization: `Bearer ${await token(request, 'admin', ADMIN_PASSWORD)}` } });
  const current = (await res.json()) as { metadata: { labels?: Record<string, string>; resourceVersion: string } };
  await page.keyboard.insertText(
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-form\n  namespace: ${PROJECT}\n  resourceVersion: "${current.metadata.resourceVersion}"\n  labels:\n    app: web-form\n    edited: "yes"\nspec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app: web-form\n  template:\n    metadata:\n      labels:\n        app: web-form\n    spec:\n      containers:\n        - name: web-form\n          image: nginx:1.27\n`,
  );
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('tab', { name: 'Overview', selected: true })).toBeVisible();
  const after = await request.get(`/apis/apps/v1/namespaces/${PROJECT}/deployments/web-form`, { headers: { Authorization: `Bearer ${await token(request, 'admin', ADMIN_PASSWORD)}` } });
  expect(((await after.json()) as { metadata: { labels: Record<string, string> } }).metadata.labels.edited).toBe('yes');

  for (const name of ['web-form', 'web-yaml']) {
    await page.goto(`/projects/${PROJECT}/workloads/deployments/${name}`);
    await page.getByTestId('delete').click();
    await page.getByLabel(`Type ${name} to confirm`).fill(name);
    await page.getByTestId('confirm-delete').click();
    await expect(page).toHaveURL(new RegExp(`/projects/${PROJECT}/workloads/deployments$`));
  }
  await expect(page.getByRole('link', { name: 'web-form' })).toHaveCount(0);
});
