/**
 * Vitest's global setup for the browser tests: one platform for every scenario, started
 * before the first test file and stopped (SIGINT, waiting for the exit) after the last.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { TestProject } from 'vitest/node';

import { Platform, type PlatformInfo } from './platform';

declare module 'vitest' {
  export interface ProvidedContext {
    platform: PlatformInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const platform = await Platform.start();
  console.log(
    `platform up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${platform.info.baseUrl}, ` +
      `${platform.info.natsUrl}, var ${platform.info.varDir}`,
  );
  project.provide('platform', { ...platform.info });
  return async () => {
    const stopping = Date.now();
    const code = await platform.stop();
    console.log(`platform stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s (exit ${code})`);
    if (code !== 0) {
      console.error(`swingflow up exited with ${code} after SIGINT\n${platform.logTail()}`);
      throw new Error(`swingflow up exited with ${code} after SIGINT`);
    }
    // A clean run leaves nothing behind; after a failed scenario the folder stays for its logs.
    const work = dirname(platform.info.varDir);
    if (!existsSync(join(work, 'FAILED'))) rmSync(work, { recursive: true, force: true });
    else console.error(`a scenario failed: the platform's folder stays at ${work}`);
  };
}
