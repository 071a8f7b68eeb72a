import { defineConfig } from '@playwright/test';

// Plays the scenario against a running local stack. `scripts/end2end` starts one and sets
// DBAGENT_URL and DBAGENT_TOKEN. This config starts no servers and downloads no browsers. It uses
// the system Chromium at CHROMIUM_PATH, /usr/bin/chromium by default.
export default defineConfig({
  testDir: './tests',
  // The beats share one stack and build on each other, so they run in order in one worker.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // Maximum time per beat, because each one waits for real CPU load, alerts and index builds.
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
