/**
 * The dashboard in a real Chromium over the whole running platform (`swingflow up`, replaying
 * real data): the signals page lists the replay's rows, a confirmed signal published on NATS
 * shows up live, the symbol page draws its chart, and the weights are saved with the token
 * (reaching the signals service) and refused without it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, test } from 'vitest';

import { launchChromium } from './browser';
import { ARTIFACTS, platformLogTail, poll, publishConfirmed } from './platform';

const platform = inject('platform');
const STAGES = ['base_signal', 'confirmation', 'ml_confidence', 'entry_timing'] as const;
type Weights = Record<(typeof STAGES)[number], number>;

interface SignalsPage {
  items: { id: string; symbol: string; status: string }[];
  total: number;
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${platform.baseUrl}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A symbol the replay produced a signal for. */
async function replaySymbol(): Promise<string> {
  const [first] = (await api<SignalsPage>('/api/signals?limit=1')).items;
  if (!first) throw new Error('GET /api/signals has no rows although the setup waited for some');
  return first.symbol;
}

async function weightsNow(): Promise<{ weights: Weights; confirm_threshold: number }> {
  return await api('/api/weights');
}

let browser: { context: BrowserContext; close: () => Promise<void> };
let page: Page;
let scenario = '';

async function shot(name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Open a route and wait until the live link is up (its subscriptions follow at once). */
async function open(path: string): Promise<void> {
  await page.goto(`${platform.baseUrl}${path}`);
  await page.locator('[data-testid="ws-status"][data-state="open"]').waitFor({ timeout: 15_000 });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

beforeEach(async (ctx) => {
  scenario = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  page = await browser.context.newPage(); // a new tab: empty sessionStorage, so no token
  page.on('pageerror', (err) => console.error(`[${scenario}] page error: ${err.message}`));
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    writeFileSync(join(dirname(platform.varDir), 'FAILED'), `${ctx.task.name}\n`, { flag: 'a' });
    await shot(`${scenario}-failed`).catch(() => undefined);
    console.error(`scenario "${ctx.task.name}" failed; the platform's logs:\n${platformLogTail(platform)}`);
  }
  await page.close();
});

describe('the dashboard over the running platform', () => {
  test('the signals page lists the replay signals from the REST API', async () => {
    await open('/');
    const rows = page.getByTestId('signal-row');
    await rows.first().waitFor({ timeout: 10_000 });
    const shown = await rows.evaluateAll((els) =>
      els.map((el) => ({ id: el.getAttribute('data-id') ?? '', symbol: el.getAttribute('data-symbol') ?? '' })),
    );
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThanOrEqual(50); // one page
    // Every row on screen is a signal the replay stored (the replay goes on, so ask per symbol).
    for (const symbol of new Set(shown.map((r) => r.symbol))) {
      const stored = await api<SignalsPage>(`/api/signals?symbol=${encodeURIComponent(symbol)}&limit=500`);
      const ids = new Set(stored.items.map((s) => s.id));
      for (const row of shown.filter((r) => r.symbol === symbol)) expect(ids).toContain(row.id);
    }
    await shot('signals-page');
  });

  test('a confirmed signal published on NATS appears without a reload', async () => {
    const symbol = await replaySymbol(); // a symbol the platform knows, on a setup and day no replay makes
    const setup = 'e2e_probe';
    const id = `${symbol}-20310314-${setup}`;
    await open('/');
    await page.getByTestId('signal-row').first().waitFor({ timeout: 10_000 });
    const probe = page.locator(`[data-testid="signal-row"][data-id="${id}"]`);
    expect(await probe.count()).toBe(0);
    const loads: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) loads.push(frame.url());
    });
    const stage = (name: string, score: number) => ({
      type: 'stage_score',
      stage: name,
      score,
      minimum: 0.3,
      passed: true,
      reason: `e2e ${name}`,
    });
    publishConfirmed(platform.natsUrl, {
      id,
      symbol,
      ts: '2031-03-14T00:00:00Z',
      setup,
      entry: 100,
      stop: 95,
      target: 112,
      stages: STAGES.map((s) => stage(s, 0.97)),
      weights: { base_signal: 0.3, confirmation: 0.25, ml_confidence: 0.25, entry_timing: 0.2 },
      total: 0.97,
      threshold: 0.6,
      reason: 'published by the browser test',
    });
    await probe.waitFor({ timeout: 5_000 });
    expect(await probe.getAttribute('data-symbol')).toBe(symbol);
    expect(await probe.getAttribute('data-status')).toBe('confirmed');
    expect(loads).toEqual([]); // no reload, no navigation: it came over the WebSocket
    await shot('signals-live');
  });

  test('the symbol page draws the price chart', async () => {
    const symbol = await replaySymbol();
    await open(`/symbol/${symbol}`);
    const chart = page.locator(`[data-testid="price-chart"][data-symbol="${symbol}"]`);
    await chart.waitFor({ timeout: 10_000 });
    const canvas = chart.locator('canvas').first();
    await canvas.waitFor({ timeout: 10_000 });
    const sizes = await chart
      .locator('canvas')
      .evaluateAll((els) => els.map((el) => ({ w: (el as HTMLCanvasElement).width, h: (el as HTMLCanvasElement).height })));
    expect(sizes.some(({ w, h }) => w > 0 && h > 0)).toBe(true);
    const box = await canvas.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(0);
    expect(box?.height ?? 0).toBeGreaterThan(0);
    expect(await page.getByTestId('symbol-error').count()).toBe(0);
    // Something is drawn: the largest canvas holds more than a background and a grid colour.
    await expect
      .poll(
        () =>
          chart.locator('canvas').evaluateAll((els) => {
            const canvases = els as HTMLCanvasElement[];
            const big = canvases.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
            const data = big.getContext('2d')?.getImageData(0, 0, big.width, big.height).data;
            const colours = new Set<number>();
            for (let i = 0; data && i < data.length; i += 4 * 97) {
              colours.add(((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0));
            }
            return colours.size;
          }),
        { timeout: 10_000 },
      )
      .toBeGreaterThan(3);
    await shot('symbol-chart');
  });

  test('saving the weights with the token reaches the gateway and the signals service', async () => {
    const before = await weightsNow();
    const wanted: Weights = { base_signal: 0.35, confirmation: 0.25, ml_confidence: 0.2, entry_timing: 0.2 };
    expect(before.weights).not.toEqual(wanted);
    await open('/settings');
    await page.getByTestId('weights-form').waitFor({ timeout: 10_000 });
    for (const stage of STAGES) await page.getByTestId(`weight-${stage}`).fill(String(wanted[stage]));
    await expect.poll(() => page.getByTestId('weights-sum').textContent()).toBe('1.0000');
    await page.getByTestId('api-token').fill(platform.token);
    await page.getByTestId('weights-save').click();
    const message = page.locator('[data-testid="weights-message"][data-ok="true"]');
    await message.waitFor({ timeout: 10_000 });
    expect(await message.textContent()).toContain('saved');
    expect((await weightsNow()).weights).toEqual(wanted);
    // The signals service applied them: its log records the weights now in force.
    const signalsLog = join(platform.varDir, 'log', 'signals.log');
    const applied = await poll(
      'the signals service to log "weights applied" with the new weights',
      async () => {
        if (!existsSync(signalsLog)) return undefined;
        for (const line of readFileSync(signalsLog, 'utf8').split('\n').reverse()) {
          if (!line.includes('weights applied')) continue;
          const record = JSON.parse(line) as { weights?: Weights };
          if (record.weights && STAGES.every((s) => record.weights?.[s] === wanted[s])) return record;
        }
        return undefined;
      },
      10_000,
    );
    expect(applied.weights).toEqual(wanted);
    await shot('weights-saved');
  });

  test('saving the weights without a token is refused with a visible message', async () => {
    const before = await weightsNow();
    await open('/settings');
    await page.getByTestId('weights-form').waitFor({ timeout: 10_000 });
    await page.getByTestId('api-token').fill('');
    await page.getByTestId('weights-save').click();
    const message = page.locator('[data-testid="weights-message"][data-ok="false"]');
    await message.waitFor({ timeout: 10_000 });
    expect(await message.textContent()).toContain('refused: a valid API token is required');
    expect(await weightsNow()).toEqual(before);
    await shot('weights-refused');
  });
});
