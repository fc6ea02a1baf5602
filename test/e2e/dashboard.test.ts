/// <reference lib="dom" />
// (the page functions below run in the browser)
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { LocalCluster, repoRoot } from '../support/local-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(240_000);

/** Debian's Chromium, installed by scripts/infra/browser.sh (test-all prepares it beside the unit tier). */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(repoRoot, '.test-results', 'screenshots');

/**
 * The dashboard in a real headless browser against a running local cluster: it connects with
 * an operator key, shows the replicas, the leader, gossip members and decisions as they happen,
 * its buttons work, and it follows a leader change after the leader is killed.
 */
describe('dashboard (GET /) in headless Chromium', () => {
  const cluster = new LocalCluster(0);
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    cluster.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Running as root in CI: Chromium's sandbox needs a user namespace we do not have.
      args: ['--no-sandbox'],
    });
    await cluster.ready();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  afterAll(async () => {
    await browser?.close();
    await cluster.dispose();
  });

  const leaderShown = () => page.locator('#leader').textContent();

  it('asks for a key, refuses a wrong one, and goes live with a right one', async () => {
    await page.goto(`${cluster.api}/`);
    await page.locator('#api-key').waitFor({ state: 'visible' });
    await page.fill('#api-key', 'not-a-key');
    await page.click('#key-form button[type=submit]');
    await page.locator('#key-error').waitFor({ state: 'visible' });
    expect(await page.locator('#key-error').textContent()).toMatch(/valid API key/);

    await page.fill('#api-key', cluster.secrets().operatorKey);
    await page.click('#key-form button[type=submit]');
    await page.locator('#connection.on').waitFor();
    await page.locator('#key-form').waitFor({ state: 'hidden' });
    await page.waitForFunction(() => /^n\d$/.test(document.body.dataset.leader ?? ''));
    expect(await page.locator('#nodes tr').count()).toBe(3);
    expect(await page.locator('#nodes .role.leader').count()).toBe(1);
    // npm start gives decision-api an outbox (Prefer: respond-async); nothing waits in it.
    expect(await page.locator('#outbox').textContent()).toBe('0 idle');
    await page.waitForFunction(
      () => document.querySelectorAll('#members li.alive').length === 3,
      null,
      { timeout: 30_000 },
    );
  });

  it('shows decisions as they are taken: count, chart bars and the recent list', async () => {
    const agent = cluster.secrets().agentKey;
    for (let n = 0; n < 25; n += 1)
      expect(
        (
          await cluster.call('PUT', `/v1/kv/dash-${n}`, agent, {
            requestId: `dash-${n}`,
            value: `v${n}`,
          })
        ).status,
      ).toBe(200);
    await page
      .waitForFunction(() => Number(document.getElementById('total')?.textContent) >= 25)
      .catch(async (error: Error) => {
        throw new Error(
          `${error.message}; the page shows total ${await page.locator('#total').textContent()}, ` +
            `connection "${await page.locator('#connection').textContent()}", ` +
            `leader ${await leaderShown()}`,
        );
      });
    await page.locator('#rate-chart rect.bar').first().waitFor();
    await page.locator('#latency-chart circle.dot-p99').first().waitFor();
    expect(await page.locator('#latency-chart polyline.p99').count()).toBe(1);
    expect(await page.locator('#recent tr').first().textContent()).toMatch(/kv\.put.*dash-24/);
  });

  it('the snapshot button takes a snapshot and says at which index', async () => {
    await page.click('#snapshot');
    await page.locator('#notice').waitFor({ state: 'visible' });
    expect(await page.locator('#notice').textContent()).toMatch(/snapshot taken at index \d+/);
  });

  it('follows a leader change after the leader is killed, and keeps a screenshot', async () => {
    const before = (await leaderShown())!;
    const pid = cluster.processes()[`command-log-${before.slice(1)}`];
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    // A new leader among the survivors; the launcher restarts the killed one after 3 s, and
    // it rejoins as a follower (pre-vote keeps it from deposing the new leader).
    await page.waitForFunction(
      (old) =>
        /^n\d$/.test(document.body.dataset.leader ?? '') && document.body.dataset.leader !== old,
      before,
      { timeout: 30_000 },
    );
    const after = await leaderShown();
    expect(after).not.toBe(before);
    expect(Number(await page.locator('#term').textContent())).toBeGreaterThan(1);
    await waitFor(
      'the restarted replica back in the table',
      async () =>
        (await page.locator(`#nodes tr[data-node="${before}"] .role.follower`).count()) === 1
          ? true
          : undefined,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, 'dashboard-after-leader-change.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
  });

  it('the transfer button moves leadership', async () => {
    const before = (await leaderShown())!;
    await page.click('#transfer');
    await page.locator('#notice', { hasText: /leadership transfer to n\d accepted/ }).waitFor();
    await page.waitForFunction(
      (old) =>
        /^n\d$/.test(document.body.dataset.leader ?? '') && document.body.dataset.leader !== old,
      before,
      { timeout: 30_000 },
    );
  });
});
