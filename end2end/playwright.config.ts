import { defineConfig } from '@playwright/test';

// Plays the scenario against a running local stack. `scripts/end2end` starts one, then sets
// DBAGENT_URL and DBAGENT_TOKEN; nothing here starts servers or downloads browsers.
export default defineConfig({
  testDir: './tests',
  // The beats share one stack and happen in order.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // Each beat waits on real CPU, real alerts and real index builds.
  timeout: 6 * 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    baseURL: process.env.DBAGENT_URL,
    browserName: 'chromium',
    viewport: { width: 1366, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
