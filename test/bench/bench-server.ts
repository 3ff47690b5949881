/**
 * The server as benchmarks run it: the `npm start` bundle in its own process, on a database of
 * the caller's choice, with one workspace from a config and no rate limit. `BENCH_NODE_ARGS` adds
 * Node flags (e.g. `--cpu-prof`); `BENCH_SERVER_STDOUT` names a file that keeps the server's output
 * (e.g. of `--trace-opt`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import type autocannon from 'autocannon';
import pg from 'pg';
import { SYNC_CONFIG } from '../helpers/scope-configs.ts';

export interface BenchServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Stops the server and waits until it has exited. */
  stop(): Promise<void>;
}

export async function startBenchServer(options: {
  readonly dataDir: string;
  readonly config: unknown;
  readonly apiKey: string;
  /** SQLite file or PostgreSQL URL; the data folder's SQLite file by default. */
  readonly database?: string;
  /** More Node flags for the server process. */
  readonly nodeArgs?: readonly string[];
  /** More server flags (e.g. `--last-seen-resolution 60000`). */
  readonly serverArgs?: readonly string[];
}): Promise<BenchServer> {
  const config = path.join(options.dataDir, 'workspace.json');
  writeFileSync(config, JSON.stringify(options.config));
  const child = spawn(
    process.execPath,
    [
      ...(process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean),
      ...(options.nodeArgs ?? []),
      path.join(process.cwd(), 'dist', 'server.mjs'),
      '--port',
      '0',
      '--data-dir',
      options.dataDir,
      ...(options.database === undefined ? [] : ['--database', options.database]),
      '--config',
      config,
      '--rate-limit',
      '0',
      '--registration-limit',
      '0',
      '--log-level',
      'warn',
      ...(options.serverArgs ?? []),
    ],
    {
      env: { ...process.env, IDSYNC_API_KEY: options.apiKey, IDSYNC_ADMIN_TOKEN: 'bench-admin-token-123456' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const keep = process.env['BENCH_SERVER_STDOUT'];
  if (keep !== undefined) child.stdout?.pipe(createWriteStream(keep));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match !== null) resolve(match[1] as string);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return {
    url,
    process: child,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The API key and workspace the server benchmarks run with: profile conversion, customerid and email unique. */
export const BENCH_API_KEY = 'us1-bench-key';
export const BENCH_CONFIG = SYNC_CONFIG;

/**
 * An autocannon request whose every call identifies a returning user of the `profiles` that
 * `populateProfiles` made, stepping through them by a prime so consecutive calls hit different ones.
 */
export function returningIdentifyRequest(profiles: number, route = '/v1/identify'): autocannon.Request {
  let n = 0;
  return {
    method: 'POST',
    path: route,
    headers: { 'content-type': 'application/json', 'x-mp-key': BENCH_API_KEY },
    setupRequest: (request: autocannon.Request) => {
      const k = (n++ * 7919) % profiles;
      return {
        ...request,
        body: JSON.stringify({
          environment: 'production',
          known_identities: { customerid: `c${k}`, device_application_stamp: `das${k}` },
        }),
      };
    },
  };
}

/**
 * Logs in `profiles` people over 16 connections, person k as customerid `c{k}`, email
 * `u{k}@example.com` and device stamp `das{k}` (the identities the benchmarks then identify).
 */
export async function populateProfiles(url: string, profiles: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < profiles) {
      const k = next++;
      const response = await fetch(`${url}/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mp-key': BENCH_API_KEY },
        body: JSON.stringify({
          environment: 'production',
          known_identities: {
            customerid: `c${k}`,
            email: `u${k}@example.com`,
            device_application_stamp: `das${k}`,
          },
        }),
      });
      if (response.status !== 200)
        throw new Error(`populate failed: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** A fresh schema of its own on the PostgreSQL server at `url` (null when none is given or it cannot be reached). */
export async function postgresSchema(
  url: string,
): Promise<{ url: string; drop: () => Promise<void> } | null> {
  if (url === '') return null;
  const schema = `bench_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query(`create schema ${schema}`);
  } catch (error) {
    process.stderr.write(`PostgreSQL skipped: ${(error as Error).message}\n`);
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: scoped.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}
