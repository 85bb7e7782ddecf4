/**
 * The whole platform for the browser tests: `swingflow up` in a temporary folder, on a free
 * gateway port, with a write token and a copy of the strategy config (the repo's file is
 * never touched). Started once by the global setup, stopped with SIGINT at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file holding the Makefile and the venv. */
export function repoRoot(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'Makefile')) && existsSync(join(dir, 'swing_config.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root (Makefile + swing_config.json) above ${start}`);
    dir = parent;
  }
}

export const ROOT = repoRoot();
export const PYTHON = join(ROOT, '.venv', 'bin', 'python');
export const ARTIFACTS = join(ROOT, 'tests', 'e2e', 'artifacts');

/** A TCP port nobody listens on right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  return await new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Poll `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function poll<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface PlatformInfo {
  baseUrl: string;
  natsUrl: string;
  token: string;
  varDir: string;
  configPath: string;
  /** swingflow up's own stdout and stderr, as a file the test workers can read. */
  outputPath: string;
}

/** `swingflow up` running for the tests; `stop()` sends SIGINT and waits for the exit. */
export class Platform {
  private output = '';
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly info: PlatformInfo,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output += chunk.toString();
      appendFileSync(info.outputPath, chunk);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        done(code);
      }),
    );
  }

  /** Start the platform and wait until the gateway is ready and the replay has produced signals. */
  static async start(): Promise<Platform> {
    const work = mkdtempSync(join(tmpdir(), 'swingflow-e2e-'));
    const varDir = join(work, 'var');
    const configPath = join(work, 'swing_config.json');
    copyFileSync(join(ROOT, 'swing_config.json'), configPath);
    const port = await freePort();
    const token = `e2e-${Math.random().toString(36).slice(2)}`;
    const child = spawn(join(ROOT, '.venv', 'bin', 'swingflow'), ['up', '--var', varDir], {
      cwd: ROOT,
      env: {
        ...process.env,
        GATEWAY_PORT: String(port),
        SWINGFLOW_API_TOKEN: token,
        SWINGFLOW_CONFIG: configPath,
        COLUMNS: '400', // one status line per line: the NATS URL is never wrapped
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const platform = new Platform(child, {
      baseUrl: `http://127.0.0.1:${port}`,
      natsUrl: '',
      token,
      varDir,
      configPath,
      outputPath: join(work, 'swingflow-up.log'),
    });
    try {
      const natsUrl = await poll(
        'the NATS URL on swingflow up\'s first lines',
        async () => {
          if (platform.exitCode !== undefined) throw new Error(`swingflow up exited with ${platform.exitCode}`);
          return /started at (nats:\/\/[\w.-]+:\d+)/.exec(platform.output)?.[1];
        },
        30_000,
      );
      platform.info.natsUrl = natsUrl;
      await poll('GET /readyz to answer 200', async () => {
        if (platform.exitCode !== undefined) throw new Error(`swingflow up exited with ${platform.exitCode}`);
        const res = await fetch(`${platform.info.baseUrl}/readyz`);
        return res.ok ? true : undefined;
      }, 120_000, 500);
      await poll('the replay\'s first signals in GET /api/signals', async () => {
        const res = await fetch(`${platform.info.baseUrl}/api/signals?limit=1`);
        const body = (await res.json()) as { total: number };
        return body.total > 0 ? true : undefined;
      }, 180_000, 1_000);
    } catch (err) {
      console.error(platform.logTail());
      await platform.stop();
      throw err;
    }
    return platform;
  }

  /** The last lines of swingflow up's output and of every service's log, for a failure. */
  logTail(lines = 25): string {
    return platformLogTail(this.info, lines);
  }

  async stop(timeoutMs = 60_000): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'timeout'>((done) => (timer = setTimeout(() => done('timeout'), timeoutMs)));
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer); // a pending timer would keep Vitest's process alive
    if (result === 'timeout') {
      console.error(`swingflow up did not stop within ${timeoutMs} ms after SIGINT; killing it\n${this.logTail()}`);
      this.child.kill('SIGKILL');
      return await this.exited;
    }
    return result;
  }
}

/** The tail of swingflow up's own output and of each service log under `varDir/log`. */
export function platformLogTail(info: Pick<PlatformInfo, 'varDir' | 'outputPath'>, lines = 25): string {
  const tail = (text: string): string => text.trimEnd().split('\n').slice(-lines).join('\n');
  const output = existsSync(info.outputPath) ? readFileSync(info.outputPath, 'utf8') : '(no output)';
  const parts = [`--- swingflow up (last ${lines} lines) ---\n${tail(output)}`];
  const logDir = join(info.varDir, 'log');
  if (existsSync(logDir)) {
    for (const name of readdirSync(logDir).sort()) {
      parts.push(`--- ${name} (last ${lines} lines) ---\n${tail(readFileSync(join(logDir, name), 'utf8'))}`);
    }
  }
  return parts.join('\n');
}

const PUBLISH = `
import asyncio, sys
import nats
from swingflow_common import subjects
from swingflow_common.messages import ConfirmedSignal

async def main() -> None:
    signal = ConfirmedSignal.model_validate_json(sys.argv[2])
    nc = await nats.connect(sys.argv[1])
    await nc.publish(subjects.confirmed(signal.symbol), signal.model_dump_json().encode())
    await nc.flush()
    await nc.close()

asyncio.run(main())
`;

/** Publish one ConfirmedSignal (validated by the shared message model) on signals.confirmed.<SYM>. */
export function publishConfirmed(natsUrl: string, signal: object): void {
  const run = spawnSync(PYTHON, ['-c', PUBLISH, natsUrl, JSON.stringify(signal)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (run.status !== 0) {
    throw new Error(`publishing the confirmed signal failed (${run.status}): ${run.stderr}`);
  }
}
