// Time to interactive of a project's workload list (Performance API marks), printed as figures.
//
// BENCH_URL: the server (a `sphere up` or scripts/mock-server.mjs); BENCH_USER / BENCH_PASSWORD: a
// user that can read the project; BENCH_PROJECT: the project holding the pods (default demo).
import { expect, test } from '@playwright/test';

const url = process.env.BENCH_URL ?? 'http://127.0.0.1:5174';
const project = process.env.BENCH_PROJECT ?? 'demo';
const runs = Number(process.env.BENCH_RUNS ?? 7);

for (const kind of (process.env.BENCH_KINDS ?? 'deployments,pods').split(',')) test(`${kind} list time to interactive`, async ({ page }) => {
  await page.goto(`${url}/login`);
  await page.getByLabel('Username').fill(process.env.BENCH_USER ?? 'admin');
  await page.getByLabel(/^Password/).fill(process.env.BENCH_PASSWORD ?? 'x');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/overview/);

  const samples: { ready: number; dcl: number; apiMs: number; transferKiB: number }[] = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(`${url}/projects/${project}/workloads/${kind}`);
    await expect(page.getByTestId('resource-table').locator('tbody tr').first()).toBeVisible();
    // Interactive: the first page is rendered and the search box answers input.
    await page.getByTestId('search').fill('');
    const m = await page.evaluate(() => {
      const ready = performance.getEntriesByName('ferrosphere:list-ready')[0]?.startTime ?? NaN;
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const list = res.filter((r) => r.name.includes('/kapis/resources.kubesphere.io/'));
      return {
        ready,
        dcl: nav?.domContentLoadedEventEnd ?? NaN,
        apiMs: list.reduce((a, r) => Math.max(a, r.duration), 0),
        transferKiB: res.reduce((a, r) => a + (r.transferSize || 0), 0) / 1024,
      };
    });
    samples.push(m);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const total = await page.getByTestId('total').textContent();
  console.log(`${kind} list (${total}) in project ${project} at ${url}, ${runs} loads:`);
  console.log(`  time to interactive (list-ready mark): median ${median(samples.map((s) => s.ready)).toFixed(0)} ms, max ${Math.max(...samples.map((s) => s.ready)).toFixed(0)} ms`);
  console.log(`  DOMContentLoaded: median ${median(samples.map((s) => s.dcl)).toFixed(0)} ms; slowest resources API call: median ${median(samples.map((s) => s.apiMs)).toFixed(0)} ms`);
  console.log(`  bytes transferred per load (cached assets count 0): median ${median(samples.map((s) => s.transferKiB)).toFixed(1)} KiB`);
});
