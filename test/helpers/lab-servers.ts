/**
 * Lab tests over HTTP: the bundled simulator (built once per test file), a scratch folder per file,
 * and one real server per test, closed after it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from './server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const SIMULATOR = path.join(ROOT, 'dist', 'simulate.mjs');
/** Room for simulator runs on a loaded shared machine (speed is not what these tests check). */
export const SLOW_MACHINE = { labTimeoutMs: 120_000, idleTimeoutMs: 600_000 } as const;

export interface LabServers {
  /** The file's scratch folder, removed after its last test. */
  readonly scratch: () => string;
  /** Starts the test's server (closed after the test). */
  readonly start: (options: Parameters<typeof startTestServer>[0]) => Promise<TestServer>;
  /** The URL of the running test's server. */
  readonly url: () => string;
}

/** Call once at a test file's top level; `name` names the scratch folder. */
export function labServers(name: string): LabServers {
  let server: TestServer | undefined;
  let scratch: string | undefined;
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-server.mjs')]);
    scratch = mkdtempSync(path.join(tmpdir(), `idsync-${name}-test-`));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });
  return {
    scratch() {
      if (scratch === undefined) throw new Error('the scratch folder exists only while tests run');
      return scratch;
    },
    async start(options) {
      server = await startTestServer(options);
      return server;
    },
    url() {
      if (server === undefined) throw new Error('no server started in this test');
      return server.url;
    },
  };
}
