/**
 * The browser half of `python -m swingflow.bench dashboard` (src/swingflow/bench/dashboard_bench.py),
 * which seeds the database, runs the gateway and publishes the live signals.
 *
 * Usage: node bench-dashboard.mjs BASE_URL LOADS
 *
 * 1. first data: LOADS fresh tabs open `/`; each measures, on the page's own clock, the time
 *    from navigation start to the first visible `signal-row` (polled every animation frame).
 * 2. frames: one tab on `/` records every requestAnimationFrame delta and long task; it prints
 *    `STREAM` on stdout, the caller streams signals over NATS and writes a line on stdin when
 *    it is done; the frames of that window are then reported.
 * The last stdout line is the JSON result. Never downloads a browser: Debian's Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { chromium } from 'playwright-core';

const [baseUrl, loadsArg] = process.argv.slice(2);
const loads = Number(loadsArg ?? 5);
if (!baseUrl || !Number.isInteger(loads) || loads < 1) {
  console.error('usage: node bench-dashboard.mjs BASE_URL LOADS');
  process.exit(2);
}

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const profile = mkdtempSync(join(tmpdir(), 'swingflow-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ARGS,
  viewport: { width: 1400, height: 900 },
});

const FIRST_ROW = () => {
  const row = document.querySelector('[data-testid="signal-row"]');
  return row && row.getBoundingClientRect().height > 0 ? performance.now() : false;
};

async function firstData() {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/`, { waitUntil: 'commit' });
  const handle = await page.waitForFunction(FIRST_ROW, undefined, { polling: 'raf', timeout: 30_000 });
  const ms = await handle.jsonValue();
  const rows = await page.getByTestId('signal-row').count();
  await page.close();
  return { ms, rows };
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

try {
  const runs = [];
  for (let i = 0; i < loads; i += 1) runs.push(await firstData());
  const times = runs.map((r) => r.ms);

  const page = await context.newPage();
  await page.goto(`${baseUrl}/`);
  await page.locator('[data-testid="ws-status"][data-state="open"]').waitFor({ timeout: 15_000 });
  await page.getByTestId('signal-row').first().waitFor({ timeout: 15_000 });
  await page.evaluate(() => {
    const w = window;
    w.__bench = { deltas: [], longTasks: [], last: performance.now(), on: true };
    const tick = (now) => {
      if (!w.__bench.on) return;
      w.__bench.deltas.push(now - w.__bench.last);
      w.__bench.last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame((now) => {
      w.__bench.last = now;
      requestAnimationFrame(tick);
    });
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__bench.longTasks.push(entry.duration);
    }).observe({ type: 'longtask' });
  });
  const liveBefore = await page.getByTestId('live-counts').textContent();
  console.log('STREAM');
  const lines = createInterface({ input: process.stdin });
  await new Promise((done) => lines.once('line', done));
  lines.close();
  const measured = await page.evaluate(() => {
    const w = window;
    w.__bench.on = false;
    return { deltas: w.__bench.deltas, longTasks: w.__bench.longTasks };
  });
  const liveAfter = await page.getByTestId('live-counts').textContent();
  const rowsShown = await page.getByTestId('signal-row').count();
  const sorted = [...measured.deltas].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      first_data_ms: times,
      first_data_rows: runs.map((r) => r.rows),
      frames: {
        count: sorted.length,
        p50_ms: quantile(sorted, 0.5),
        p99_ms: quantile(sorted, 0.99),
        max_ms: sorted.at(-1) ?? null,
        over_50ms: sorted.filter((d) => d > 50).length,
        long_tasks: measured.longTasks.length,
        longest_task_ms: measured.longTasks.length ? Math.max(...measured.longTasks) : 0,
      },
      live_counts_before: liveBefore?.trim() ?? null,
      live_counts_after: liveAfter?.trim() ?? null,
      rows_shown_after: rowsShown,
    }),
  );
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
