import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

// Plays the seven beats of the scenario in Chromium against a running local stack, with real
// clusters, workloads, alerts and index builds. Each beat checks what the page shows and saves a
// screenshot under end2end/screenshots/.

const token = process.env.DBAGENT_TOKEN ?? '';
const shots = path.join(__dirname, '..', 'screenshots');
const phone = { width: 390, height: 844 };
const laptop = { width: 1366, height: 900 };

// Maximum waits in ms for an alert and for a resolved issue. Real CPU load and real index builds
// take minutes, not seconds.
const DETECTION = 4 * 60_000;
const RESOLUTION = 5 * 60_000;

test.describe.configure({ mode: 'serial' });

let page: Page;
// Uncaught errors in the page, such as a panic in the dashboard's WASM during hydration.
const pageErrors: string[] = [];

test.beforeAll(async ({ browser }) => {
  expect(
    token,
    'DBAGENT_TOKEN is empty. Set it to the API token of the stack under test, as scripts/end2end does',
  ).not.toBe('');
  fs.mkdirSync(shots, { recursive: true });
  page = await browser.newPage({ viewport: laptop });
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

test.afterEach(() => {
  expect(pageErrors, 'uncaught errors in the dashboard').toEqual([]);
});

test.afterAll(async () => {
  await page?.close();
});

async function shoot(name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function shootPhone(name: string) {
  await page.setViewportSize(phone);
  await page.waitForTimeout(300);
  await shoot(`${name}-phone`);
  await page.setViewportSize(laptop);
}

async function workload(name: string) {
  return page.getByTestId(`workload-${name}`);
}

test('beat 1: sign in and see the server calm, with no active issues', async () => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in to DBAgent' })).toBeVisible();
  await page.getByLabel('API token').fill('not-the-token');
  await page.getByLabel('Your name').fill('Dana');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Invalid token');

  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();

  const server = page.getByTestId('server-card');
  await expect(server).toContainText('local-target');
  await expect(server).toContainText('DBAgent enabled');
  await expect(server.getByTestId('cpu-chart')).toBeVisible();
  await expect(server.getByTestId('cpu-now')).toHaveText(/\d+ %/);
  await expect(page.getByTestId('no-issues')).toHaveText('No active issues');
  await expect(await workload('orders-by-customer')).toContainText('stopped');
  await shoot('beat-1-overview');
  await shootPhone('beat-1-overview');
});

test('beat 2: start the workload and watch CPU climb past the threshold', async () => {
  const orders = await workload('orders-by-customer');
  await orders.getByRole('button', { name: /Start/ }).click();
  await expect(orders).toContainText('running');
  await expect
    .poll(async () => parseInt((await page.getByTestId('cpu-now').textContent()) ?? '0', 10), {
      timeout: DETECTION,
      intervals: [2_000],
    })
    .toBeGreaterThanOrEqual(80);
  await shoot('beat-2-cpu-high');
});

test('beat 3: an alert fires and an issue appears without a reload', async () => {
  const issue = page.getByTestId('open-issue').first();
  await expect(issue).toBeVisible({ timeout: DETECTION });
  await expect(issue).toContainText('orders');
  await shoot('beat-3-issue-open');
});

test('beat 4: the issue shows its evidence, the DDL and three actions', async () => {
  await page.getByTestId('open-issue').first().click();
  await expect(page.getByTestId('issue-status')).toHaveText('Awaiting approval', { timeout: DETECTION });
  const evidence = page.locator('#evidence');
  await expect(evidence).toContainText('customer_id');
  await expect(evidence).toContainText('Calls');
  await expect(evidence).toContainText('Mean time');
  await expect(evidence).toContainText('Share of time');
  await expect(evidence).toContainText('Sequential scans');
  await expect(evidence).toContainText('Seq Scan');
  await expect(page.getByTestId('cost-reduction')).toContainText('% lower with the index');
  await expect(page.locator('#proposed-action')).toContainText(
    'CREATE INDEX CONCURRENTLY "idx_orders_customer_id" ON "public"."orders" ("customer_id")',
  );
  await expect(page.locator('#risk-facts')).toContainText('public.orders');
  for (const action of ['Approve', 'Skip', 'Always allow…']) {
    await expect(page.getByRole('button', { name: action })).toBeEnabled();
  }
  await shoot('beat-4-issue');
  await shootPhone('beat-4-issue');
});

test('beat 5: the assistant assesses the risk, records the instruction and approves', async () => {
  await page.getByRole('button', { name: 'Always allow…' }).click();
  const assistant = page.getByTestId('assistant');
  await expect(assistant.getByTestId('risk-level')).toBeVisible();
  await expect(assistant).toContainText('SHARE UPDATE EXCLUSIVE');
  await expect(assistant).toContainText('public.orders');
  const form = assistant.getByTestId('limits-form');
  await expect(form.getByLabel('Schemas covered')).toHaveValue('public');
  await expect(form.getByLabel('Largest table (MB)')).not.toHaveValue('');
  await form.getByLabel('Builds per day').fill('5');
  await shoot('beat-5-assistant');
  await form.getByRole('button', { name: /Confirm/ }).click();
  await expect(assistant.getByTestId('assistant-done')).toBeVisible();
  await expect(assistant).toContainText('at most 5 builds a day');
  await expect(assistant).toContainText('I recorded instruction');
  await shoot('beat-5-assistant-done');
  await assistant.getByRole('button', { name: 'Close' }).click();

  await expect(page.getByTestId('decision-note')).toContainText('by Dana');
  await expect(page.getByTestId('issue-status')).toHaveText('Resolved', { timeout: RESOLUTION });
  await expect(page.getByTestId('cpu-before-after')).toContainText('→');
  await shoot('beat-5-resolved');

  await page.getByRole('link', { name: 'Run' }).click();
  await expect(page.getByTestId('run-state')).toHaveText('Completed');
  await expect(page.getByTestId('run-step').first()).toBeVisible();
  await expect(page.locator('#build-progress')).toBeVisible();
  await shoot('beat-5-run');

  await page.getByRole('link', { name: 'Overview' }).click();
  const orders = await workload('orders-by-customer');
  await orders.getByRole('button', { name: /Stop/ }).click();
  await expect(orders).toContainText('stopped');
});

test('beat 6: a new workload is fixed with no human involved', async () => {
  await page.getByRole('link', { name: 'Instructions' }).click();
  const instruction = page.getByTestId('instruction').first();
  await expect(instruction).toContainText('Active');
  await expect(instruction).toContainText('Created by Dana');
  await expect(instruction).toContainText('public');
  await shoot('beat-6-instructions');

  await page.getByRole('link', { name: 'Overview' }).click();
  const shipments = await workload('shipments-by-tracking');
  await shipments.getByRole('button', { name: /Start/ }).click();
  await expect(shipments).toContainText('running');
  await shoot('beat-6-second-workload');

  await page.getByRole('link', { name: 'Timeline' }).click();
  await expect(page.getByTestId('incident')).toHaveCount(2, { timeout: DETECTION });
  await expect(page.getByTestId('incident').first()).toContainText('Autonomous', { timeout: RESOLUTION });
});

test('beat 7: the timeline shows both incidents and the autonomy progression', async () => {
  const incidents = page.getByTestId('incident');
  // Newest first: the autonomous fix, then the one Dana approved.
  await expect(incidents.nth(0)).toContainText('shipments');
  await expect(incidents.nth(0)).toContainText('No human involved');
  await expect(incidents.nth(1)).toContainText('Human-approved');
  await expect(incidents.nth(1)).toContainText('Approved by Dana');
  for (const figure of ['Time to detect', 'Diagnosed in', 'Resolved in', 'CPU', 'Mean time']) {
    await expect(incidents.nth(0)).toContainText(figure);
    await expect(incidents.nth(1)).toContainText(figure);
  }
  await expect(page.getByTestId('progression')).toContainText('1 human-approved');
  await expect(page.getByTestId('progression')).toContainText('2 autonomous');
  await shoot('beat-7-timeline');
  await shootPhone('beat-7-timeline');

  await page.getByRole('link', { name: 'Instructions' }).click();
  const instruction = page.getByTestId('instruction').first();
  await instruction.getByRole('button', { name: 'Revoke' }).click();
  await expect(instruction).toContainText('Revoked by Dana');
  await expect(instruction.getByRole('button', { name: 'Revoke' })).toHaveCount(0);
  await shoot('beat-7-instruction-revoked');

  await page.getByRole('link', { name: 'Overview' }).click();
  const shipments = await workload('shipments-by-tracking');
  await shipments.getByRole('button', { name: /Stop/ }).click();
  await expect(shipments).toContainText('stopped');
  await expect(page.getByTestId('no-issues')).toHaveText('No active issues');
});
