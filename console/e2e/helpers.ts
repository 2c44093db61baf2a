// Shared steps of the end-to-end tests: the server's address, logins, API shortcuts and screenshots.
import { expect, test as base, type APIRequestContext, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, STATE_FILE, type E2eState } from './state';

export const ADMIN_PASSWORD = 'Adm1nNewPassw0rd';
export const WS = 'e2e-ws';
export const PROJECT = 'e2e-project';
/** Created through the console by tenancy.spec.ts (the other tests create theirs through the API). */
export const TENANT_WS = 'e2e-tenant-ws';
export const TENANT_PROJECT = 'e2e-tenant-project';
export const OPERATOR = 'e2e-operator';
export const VIEWER = 'e2e-viewer';
export const USER_PASSWORD = 'Us3rPassw0rd';

export function state(): E2eState {
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as E2eState;
}

const SHOTS = join(REPO, 'target', 'e2e-screenshots');

/** Every test: the base URL of the server, a failure on any CSP violation, a screenshot of the last page. */
export const test = base.extend<{ cspViolations: string[] }>({
  baseURL: async ({}, use) => use(state().url),
  cspViolations: [
    async ({ page }, use, info) => {
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await use(violations);
      mkdirSync(SHOTS, { recursive: true });
      const name = info.titlePath.slice(1).join(' - ').replace(/[^a-zA-Z0-9 _-]+/g, '_');
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }).catch(() => undefined);
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export async function login(page: Page, username: string, password: string) {
  await page.goto('/login');
  await page.getByLabel(/^Username/).fill(username);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Logs in and, if the server asks for it, changes the initial password to the same value plus a suffix-free new one. */
export async function loginReady(page: Page, username: string, password: string) {
  await login(page, username, password);
  await page.waitForURL(/\/(overview|password)/);
  if (page.url().endsWith('/password')) {
    const next = `${password}X1`;
    await page.getByLabel(/^Current password/).fill(password);
    await page.getByLabel(/^New password/).fill(next);
    await page.getByLabel(/^Confirm new password/).fill(next);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(/\/overview/);
    return next;
  }
  return password;
}

export async function token(request: APIRequestContext, username: string, password: string): Promise<string> {
  const res = await request.post('/oauth/token', {
    form: { grant_type: 'password', username, password, client_id: 'kubesphere', client_secret: 'kubesphere' },
  });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Creates a user through the API (setup for tests whose subject is not user creation). */
export async function ensureUser(request: APIRequestContext, admin: string, name: string, password: string, globalRole = 'platform-regular') {
  const res = await request.post('/kapis/iam.kubesphere.io/v1beta1/users', {
    headers: { Authorization: `Bearer ${admin}` },
    data: { apiVersion: 'iam.kubesphere.io/v1beta1', kind: 'User', metadata: { name, annotations: { 'iam.kubesphere.io/globalrole': globalRole } }, spec: { email: `${name}@example.com`, password } },
  });
  expect([200, 201, 409], await res.text()).toContain(res.status());
}

export async function ensureWorkspaceAndProject(request: APIRequestContext, admin: string) {
  const h = { Authorization: `Bearer ${admin}` };
  const ws = await request.post('/kapis/tenant.kubesphere.io/v1beta1/workspacetemplates', {
    headers: h,
    data: { apiVersion: 'tenant.kubesphere.io/v1beta1', kind: 'WorkspaceTemplate', metadata: { name: WS }, spec: { template: { spec: { manager: 'admin' } } } },
  });
  expect([200, 201, 409], await ws.text()).toContain(ws.status());
  // The workspace controller makes the Workspace from the template a moment later (as in
  // KubeSphere): until then the project create answers 404 workspace not found.
  await expect
    .poll(
      async () => {
        const ns = await request.post(`/kapis/tenant.kubesphere.io/v1beta1/workspaces/${WS}/namespaces`, {
          headers: h,
          data: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PROJECT, labels: { 'kubesphere.io/workspace': WS } } },
        });
        return `${ns.status()} ${await ns.text()}`;
      },
      { timeout: 15_000 },
    )
    .toMatch(/^(200|201|409) /);
}

export async function addProjectMember(request: APIRequestContext, admin: string, username: string, role: string) {
  const res = await request.post(`/kapis/iam.kubesphere.io/v1beta1/namespaces/${PROJECT}/namespacemembers`, {
    headers: { Authorization: `Bearer ${admin}` },
    data: [{ username, roleRef: role }],
  });
  expect([200, 201, 409], await res.text()).toContain(res.status());
}
