/**
 * The ML page over the running platform. Setup registers a small model in the platform's
 * database the way `swingflow train` records one (a real XGBoost fit with purged
 * walk-forward folds, on arrays with a known signal, so it takes seconds, not the minutes
 * of labeling a universe), not promoted, so the live pipeline keeps its own state. The
 * page lists it with its out-of-sample figures and opens its calibration, importance,
 * lift and folds. Then Train is pressed on a tiny synthetic universe: the progress bar
 * follows the `jobs` channel and the new model appears in the list when the job is done.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';

import { launchChromium } from './browser';
import { ARTIFACTS, platformLogTail, PYTHON, ROOT } from './platform';

const platform = inject('platform');
const FIXTURE_VERSION = 'e2e-fixture-model';

/** Train on arrays and register through the registry (like ml.job.record, minus promotion). */
const REGISTER = `
import asyncio, dataclasses, sys
from datetime import UTC, datetime
from pathlib import Path
import numpy as np
from swingflow.up.run import default_database_url
from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.ml import registry
from swingflow_common.ml.train import TrainingSet, TrainParams, train

var_dir, version = Path(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(5)
n = 400
x = rng.normal(size=(n, 4))
y = (x[:, 0] + rng.normal(scale=0.8, size=n) > 0).astype(np.int64)
starts = np.datetime64("2020-01-01", "ns") + np.arange(n) * np.timedelta64(1, "D")
data = TrainingSet(("e2e_f0", "e2e_f1", "e2e_f2", "e2e_f3"), x, y, np.where(y == 1, 0.04, -0.02),
                   starts, starts + np.timedelta64(8, "D"), tuple(map(str, range(n))), ("e2e",) * n)
result = train(data, TrainParams(n_folds=3, n_estimators=30, n_bootstrap=200, nthread=1))

async def main() -> None:
    engine = engine_from_url(default_database_url(var_dir))
    model = dataclasses.replace(result.model, version=version)
    directory = var_dir / "e2e-models"
    directory.mkdir(parents=True, exist_ok=True)
    path, sha = registry.save_model(model, directory)
    report = {**result.report, "version": version, "sha256": sha,
              "promotion": {"promoted": False, "reason": "e2e fixture, never promoted", "previous": None}}
    window = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 2, 12, tzinfo=UTC))
    async with session_factory(engine).begin() as session:
        await registry.register(session, model, path, sha, {"summary": result.summary, "report": report}, window)
    await engine.dispose()

asyncio.run(main())
`;

interface ModelsPage {
  items: { version: string; promoted: boolean; metrics: Record<string, number> }[];
}

let browser: { context: BrowserContext; close: () => Promise<void> };
let page: Page;
let scenario = '';

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const run = spawnSync(PYTHON, ['-c', REGISTER, platform.varDir, FIXTURE_VERSION], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`registering the fixture model failed (${run.status}): ${run.stderr}`);
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[ml] page error: ${err.message}`));
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page.screenshot({ path: join(ARTIFACTS, `${scenario}-failed.png`), fullPage: true }).catch(() => undefined);
    console.error(`scenario "${ctx.task.name}" failed; the platform's logs:\n${platformLogTail(platform)}`);
  }
});

afterAll(async () => {
  await page?.close();
  await browser?.close();
});

async function models(): Promise<ModelsPage> {
  return (await (await fetch(`${platform.baseUrl}/api/ml/models`)).json()) as ModelsPage;
}

describe('the ML page', () => {
  test('lists a registered model with its out-of-sample report', async () => {
    scenario = 'ml-model-listed';
    const listed = (await models()).items.find((m) => m.version === FIXTURE_VERSION);
    expect(listed?.promoted).toBe(false);

    await page.goto(`${platform.baseUrl}/ml?model=${FIXTURE_VERSION}`);
    await page.locator('[data-testid="ws-status"][data-state="open"]').waitFor({ timeout: 15_000 });
    const row = page.locator(`[data-testid="model-row"][data-version="${FIXTURE_VERSION}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-promoted')).toBe('false');
    expect(await row.textContent()).toContain((listed?.metrics.oos_auc ?? NaN).toFixed(3));

    const detail = page.locator(`[data-testid="model-detail"][data-version="${FIXTURE_VERSION}"]`);
    await detail.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('calibration-point').count()).toBeGreaterThan(0);
    // the outcome leans on e2e_f0 only: it leads the importance bars
    expect(await page.getByTestId('importance-bar').first().getAttribute('data-feature')).toBe('e2e_f0');
    expect(await page.getByTestId('fold-row').count()).toBe(3);
    expect(await page.getByTestId('expectancy-lift-ci').textContent()).toMatch(/^\[.+%, .+%\]$/);
    await page.screenshot({ path: join(ARTIFACTS, 'ml-model-listed.png'), fullPage: true });
  });

  test('Train shows live progress, then the new model in the list', { timeout: 900_000 }, async () => {
    scenario = 'ml-train';
    const before = new Set((await models()).items.map((m) => m.version));
    // the model files go under the run's var folder, not the repository's var/models
    const config = JSON.parse(readFileSync(platform.configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(platform.configPath, JSON.stringify({ ...config, ml_model_path: join(platform.varDir, 'models') }, null, 2));
    await page.goto(`${platform.baseUrl}/ml`);
    await page.locator('[data-testid="ws-status"][data-state="open"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('train-universes').fill('synthetic:2x500:21');
    await page.getByTestId('train-folds').fill('3');
    await page.getByTestId('train-promote').uncheck(); // the live pipeline keeps its model
    await page.getByTestId('train-token').fill(platform.token);
    await page.getByTestId('train-button').click();

    // progress from the jobs channel: running with a stage, then done with the version
    await page.locator('[data-testid="train-progress"][data-status="running"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="train-progress"][data-status="done"]').waitFor({ timeout: 880_000 });
    const version = (await page.getByTestId('train-result').textContent())?.replace('model ', '').trim() ?? '';
    expect(before.has(version)).toBe(false);
    await page.locator(`[data-testid="model-row"][data-version="${version}"]`).waitFor({ timeout: 15_000 });
    await page.locator(`[data-testid="model-detail"][data-version="${version}"]`).waitFor({ timeout: 15_000 });
    const listed = (await models()).items.find((m) => m.version === version);
    expect(listed?.promoted).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'ml-train.png'), fullPage: true });
  });
});
