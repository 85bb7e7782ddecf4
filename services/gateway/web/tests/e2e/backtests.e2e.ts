/**
 * The Backtests page over the running platform: a small backtest started from the page's
 * form (with the platform's token) reports live progress over the `jobs` channel, finishes,
 * appears in the run list, and its detail shows the equity chart; the API lists it too.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';

import { launchChromium } from './browser';
import { ARTIFACTS, platformLogTail } from './platform';

const platform = inject('platform');
let browser: { context: BrowserContext; close: () => Promise<void> };
let page: Page;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[backtests] page error: ${err.message}`));
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page.screenshot({ path: join(ARTIFACTS, 'backtest-run-failed.png'), fullPage: true }).catch(() => undefined);
    console.error(`scenario "${ctx.task.name}" failed; the platform's logs:\n${platformLogTail(platform)}`);
  }
});

afterAll(async () => {
  await page?.close();
  await browser?.close();
});

describe('the Backtests page', () => {
  test('a backtest started from the page finishes and appears in the list', { timeout: 300_000 }, async () => {
    await page.goto(`${platform.baseUrl}/backtests`);
    await page.locator('[data-testid="ws-status"][data-state="open"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('bt-universe').fill('synthetic:3x300:5');
    await page.getByTestId('bt-symbols').fill('SYN0001, SYN0002');
    await page.getByTestId('bt-token').fill(platform.token);
    await page.getByTestId('bt-start').click();

    // live progress from the jobs channel, then done
    await page.getByTestId('bt-progress').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="bt-progress"][data-status="done"]').waitFor({ timeout: 280_000 });

    const res = await fetch(`${platform.baseUrl}/api/backtest/results`);
    const listed = (await res.json()) as { items: { id: string; symbols: string[] }[] };
    const newest = listed.items[0];
    expect(newest?.symbols).toEqual(['SYN0001', 'SYN0002']);
    const row = page.locator('[data-testid="bt-run-row"]', { hasText: newest?.id ?? '?' });
    await row.waitFor({ timeout: 15_000 });
    await page.getByTestId('bt-detail').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('bt-detail').textContent()).toContain(newest?.id);
    const canvas = page.locator('[data-testid="bt-detail"] [data-testid="equity-chart"] canvas').first();
    await canvas.waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'backtest-run.png'), fullPage: true });
  });
});
