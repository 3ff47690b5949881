/**
 * The server as benchmarks run it: the `npm start` bundle in its own process, on a database of
 * the caller's choice, with one workspace from a config and no rate limit. `BENCH_NODE_ARGS` adds
 * Node flags (e.g. `--cpu-prof`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

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
}): Promise<BenchServer> {
  const config = path.join(options.dataDir, 'workspace.json');
  writeFileSync(config, JSON.stringify(options.config));
  const child = spawn(
    process.execPath,
    [
      ...(process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean),
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
    ],
    {
      env: { ...process.env, IDSYNC_API_KEY: options.apiKey, IDSYNC_ADMIN_TOKEN: 'bench-admin-token-123456' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
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
