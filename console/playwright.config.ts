// End-to-end tests: Debian's Chromium against a real `sphere up` started by e2e/global-setup.ts.
import { defineConfig } from '@playwright/test';

const chromium = {
  browserName: 'chromium' as const,
  launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] },
  headless: true,
  // sphere serves HTTPS with its own per-install CA.
  ignoreHTTPSErrors: true,
  viewport: { width: 1400, height: 900 },
};

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  // One server, shared state (the admin's password changes in the first test): run in order.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: '../target/e2e-results',
  use: { ...chromium, trace: 'retain-on-failure' },
  projects: [
    { name: 'serving', testMatch: /serving\.spec\.ts/ },
    { name: 'first-login', testMatch: /first-login\.spec\.ts/ },
    { name: 'console', testMatch: /(tenancy|deployments|viewer|lockout|members|config|roles|users|workload-detail)\.spec\.ts/, dependencies: ['first-login'] },
  ],
});
