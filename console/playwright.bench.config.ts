// The console benchmark: time to interactive of the workload list, in Debian's Chromium.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'bench',
  testMatch: /\.bench\.ts$/,
  workers: 1,
  timeout: 300_000,
  reporter: [['list']],
  outputDir: '../target/bench-results',
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] },
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1400, height: 900 },
  },
});
