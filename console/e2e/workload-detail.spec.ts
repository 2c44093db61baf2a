// A workload's detail page: spec, pods, revisions (read through the resources API) and restart.
import { ADMIN_PASSWORD, ensureWorkspaceAndProject, expect, login, PROJECT, test, token } from './helpers';

const NAME = 'detail-web';

test('a Deployment\'s spec, restart and revisions', async ({ page, request }) => {
  const admin = await token(request, 'admin', ADMIN_PASSWORD);
  const h = { Authorization: `Bearer ${admin}` };
  await ensureWorkspaceAndProject(request, admin);
  const labels = { app: NAME };
  const created = await request.post(`/apis/apps/v1/namespaces/${PROJECT}/deployments`, {
    headers: h,
    data: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: NAME, labels }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } } } },
  });
  expect([201, 409], await created.text()).toContain(created.status());

  await login(page, 'admin', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/overview/);
  await page.goto(`/projects/${PROJECT}/workloads/deployments/${NAME}`);
  await expect(page.getByTestId('spec')).toContainText('RollingUpdate');
  await expect(page.getByTestId('spec')).toContainText(`app=${NAME}`);
  await expect(page.getByRole('table', { name: 'Containers' })).toContainText('80/TCP');

  await page.getByTestId('restart').click();
  await expect(page.getByTestId('restart-done')).toBeVisible();
  const after = await request.get(`/apis/apps/v1/namespaces/${PROJECT}/deployments/${NAME}`, { headers: h });
  const obj = (await after.json()) as { spec: { template: { metadata: { annotations?: Record<string, string> } } } };
  expect(obj.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT/);
  await expect(page.getByTestId('spec')).toContainText('restartedAt');

  // The restart rolled a second ReplicaSet: two revisions, each readable through the resources API.
  await page.getByRole('tab', { name: 'Revisions' }).click();
  // The Deployment controller makes the new ReplicaSet a moment after the restart.
  await expect(async () => {
    await page.getByTestId('refresh-revisions').click();
    await expect(page.getByRole('button', { name: 'Revision #2' })).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Revision #2' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('yaml-editor')).toContainText('ReplicaSet');
  await expect(dialog.getByTestId('yaml-editor')).toContainText('deployment.kubernetes.io/revision');
});
