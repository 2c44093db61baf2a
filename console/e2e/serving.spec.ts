// How sphere serves the console: caching, the Content-Security-Policy, client routes, API paths.
import { expect, test } from './helpers';

test('the console is served with strict headers and correct caching', async ({ request, page }) => {
  const index = await request.get('/');
  expect(index.status()).toBe(200);
  expect(index.headers()['cache-control']).toBe('no-cache');
  expect(index.headers()['content-security-policy']).toContain("script-src 'self'");
  expect(index.headers()['content-security-policy']).not.toContain('unsafe-inline');
  expect(index.headers()['x-content-type-options']).toBe('nosniff');
  expect(index.headers()['referrer-policy']).toBe('no-referrer');
  const etag = index.headers()['etag'];
  expect(etag).toBeTruthy();
  expect((await request.get('/', { headers: { 'if-none-match': etag ?? '' } })).status()).toBe(304);

  const html = await index.text();
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(script).toBeTruthy();
  const asset = await request.get(script ?? '');
  expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');

  // A client-side route loads the app; an unknown API path is a 404, never the app's HTML.
  const route = await request.get('/workspaces/some-ws/projects');
  expect(await route.text()).toContain('<div id="root">');
  const api = await request.get('/kapis/nothing.example.io/v1/things');
  expect(api.status()).toBeGreaterThanOrEqual(400);
  expect(await api.text()).not.toContain('<div id="root">');

  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});
