/**
 * A real server for tests: real HTTP on a free port, a real SQLite file in a temp folder (or a
 * PostgreSQL schema), bootstrap credentials, and clients for each authentication mode.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { signature } from '../../server/auth/authenticate.ts';
import { startServer, type RunningServer, type StartOverrides } from '../../server/server.ts';
import type { ServerOptionsInput } from '../../server/options.ts';
import type { ScopeConfigInput } from '../../shared/identity/scope-config.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const API_KEY = 'us1-test-key';
export const API_SECRET = 'test-secret-0123456789abcdef';

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly dataDir: string;
  readonly databaseFile: string;
  close(): Promise<void>;
}

export async function startTestServer(
  options: Partial<ServerOptionsInput> & { config?: ScopeConfigInput } = {},
  overrides: StartOverrides = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'idsync-test-'));
  const { config, ...rest } = options;
  let configFile: string | undefined;
  if (config !== undefined) {
    configFile = path.join(dataDir, 'workspace.json');
    writeFileSync(configFile, JSON.stringify(config));
  }
  const databaseFile = path.join(dataDir, 'identity-sync.sqlite');
  const server = await startServer(
    {
      port: 0,
      dataDir,
      logLevel: 'silent',
      adminToken: ADMIN_TOKEN,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      rateLimitPerSecond: 0,
      authFailureLimit: 0,
      registrationLimit: 0,
      aliasPollMs: 50,
      ...(configFile === undefined ? {} : { configFile }),
      ...rest,
    },
    { metricsWithProcess: false, ...overrides },
  );
  return {
    server,
    url: server.url,
    dataDir,
    databaseFile,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type AuthMode = 'key' | 'basic' | 'hmac' | 'none';

export interface CallOptions {
  readonly auth?: AuthMode;
  readonly key?: string;
  readonly secret?: string;
  readonly headers?: Record<string, string>;
  readonly gzip?: boolean;
  /** Overrides the Date header used by HMAC signing (to test stale signatures). */
  readonly date?: string;
  readonly method?: string;
}

export interface Response<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly text: string;
}

/** Sends a request the way an IDSync client would, with the chosen authentication. */
export async function call<T = unknown>(
  base: string,
  route: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<Response<T>> {
  const key = options.key ?? API_KEY;
  const secret = options.secret ?? API_SECRET;
  const method = options.method ?? 'POST';
  const raw =
    body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string> = {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  switch (options.auth ?? 'key') {
    case 'key':
      headers['x-mp-key'] = key;
      break;
    case 'basic':
      headers['authorization'] = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
      break;
    case 'hmac': {
      const date = options.date ?? new Date().toUTCString();
      headers['x-mp-key'] = key;
      headers['date'] = date;
      headers['x-mp-signature'] = signature(secret, method, date, route, raw);
      break;
    }
    case 'none':
      break;
  }
  Object.assign(headers, options.headers);
  let payload: Buffer | undefined = raw.length === 0 && body === undefined ? undefined : raw;
  if (options.gzip === true && payload !== undefined) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
  }
  const response = await fetch(`${base}${route}`, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: new Uint8Array(payload) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

export function admin<T = unknown>(
  base: string,
  method: string,
  route: string,
  body?: unknown,
  token = ADMIN_TOKEN,
) {
  return fetch(`${base}/admin/v1${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(async (r) => ({ status: r.status, body: (r.status === 204 ? null : await r.json()) as T }));
}
