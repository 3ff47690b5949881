/**
 * The composition root: opens (and migrates) the database, makes sure there is a workspace and
 * credentials to use it with (the web app's key-only input included), builds the HTTP app, starts
 * the alias worker and listens.
 */
import { getRandomValues } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { defaultScopeConfig, ScopeConfigSchema } from '../shared/identity/scope-config.ts';
import { parseWith } from '../shared/protocol/parse.ts';
import type { Clock } from '../shared/resolver/context.ts';
import { randomFromFill, type RandomSource } from '../shared/util/random.ts';
import { AliasWorker } from './alias-worker.ts';
import { ensureAppInput, type AppInput } from './app-input.ts';
import { pino } from 'pino';
import { randomToken, ServerKey, sha256Hex, safeEqual } from './auth/secrets.ts';
import { appUrl, connectUrl, reachableBaseUrl } from './connect-link.ts';
import { isPostgresUrl, openDatabase, type DatabaseHandle } from './db/connect.ts';
import { DeviceStore } from './db/device-store.ts';
import { ProfileAdmin } from './db/profile-admin.ts';
import { deviceLogRow, RequestLog } from './db/request-log.ts';
import { SqlIdentityStore } from './db/sql-identity-store.ts';
import { TraceRetention } from './db/trace-retention.ts';
import { WorkspaceStore } from './db/workspace-store.ts';
import { buildApp } from './http/app.ts';
import { Metrics } from './http/metrics.ts';
import {
  databaseTarget,
  type InputKind,
  ServerOptionsSchema,
  type ServerOptions,
  type ServerOptionsInput,
} from './options.ts';

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Credentials created at this start; shown once, never stored in clear. */
export interface Bootstrap {
  readonly workspaceId: string;
  readonly createdWorkspace: boolean;
  readonly adminToken: string | null;
  readonly apiKey: string | null;
  readonly apiSecret: string | null;
  /** Whether the new `apiKey` is accepted alone (browser) or needs Basic/HMAC (server), HL-7. */
  readonly inputKind: InputKind;
}

export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly options: ServerOptions;
  readonly bootstrap: Bootstrap;
  readonly database: string;
  /** The key-only input of the web app (not a secret: every browser that opens the app holds it). */
  readonly appInput: AppInput;
  /** The web app on this machine. */
  readonly appUrl: string;
  /** The link another device opens to connect its app to this server. */
  readonly connectUrl: string;
  /** Writes the answered requests the request log still buffers (LS-6), as its readers do first. */
  flushRequestLog(): Promise<void>;
  /** Runs a trace-retention pass now (LS-10); nothing when traces are kept for ever. */
  expireTraces(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOverrides {
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly metricsWithProcess?: boolean;
  /** Handed the database connection once it is open (tests reach SQLite's own settings). */
  readonly onDatabaseOpen?: (handle: DatabaseHandle) => void;
}

/** The request log is written at least every this many requests (LS-6). */
const REQUEST_LOG_FLUSH_ROWS = 500;

/** How long a stopping server lets requests in flight finish before it closes their connections. */
const CLOSE_GRACE_MS = 1000;

const BOOTSTRAP_ACTOR = { kind: 'system', id: 'bootstrap' } as const;

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new StartupError(`cannot read the workspace config file ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StartupError(`the workspace config file ${file} is not JSON: ${(error as Error).message}`);
  }
}

async function bootstrap(workspaces: WorkspaceStore, options: ServerOptions): Promise<Bootstrap> {
  let createdWorkspace = false;
  let [first] = await workspaces.list();
  if (first === undefined) {
    const input =
      options.configFile === undefined ? defaultScopeConfig('default') : readConfigFile(options.configFile);
    const parsed = parseWith(ScopeConfigSchema, input, 'INVALID_CONFIG');
    if (!parsed.ok) throw new StartupError(`invalid workspace config: ${parsed.error.message}`);
    const created = await workspaces.create(parsed.value, BOOTSTRAP_ACTOR);
    if (!created.ok) throw new StartupError(created.error.message);
    createdWorkspace = true;
    [first] = await workspaces.list();
  }
  const workspaceId = (first as { id: string }).id;

  let apiKey: string | null = null;
  let apiSecret: string | null = null;
  const inputKind = options.inputKind ?? 'browser';
  const allowKeyOnly = inputKind === 'browser';
  if (options.apiKey !== undefined) {
    const existing = await workspaces.findInput(options.apiKey);
    if (existing !== null && options.inputKind !== undefined && existing.allowKeyOnly !== allowKeyOnly) {
      const kind = existing.allowKeyOnly ? 'browser (key-only)' : 'server-to-server';
      throw new StartupError(
        `API key ${options.apiKey} is a ${kind} input; an input's kind cannot change: create another key`,
      );
    }
    if (existing === null) {
      const created = await workspaces.createInput(
        workspaceId,
        'bootstrap',
        { allowKeyOnly },
        {
          key: options.apiKey,
          secret: options.apiSecret ?? randomToken(32),
        },
      );
      if (!created.ok) throw new StartupError(created.error.message);
      apiKey = created.value.key;
      apiSecret = options.apiSecret === undefined ? created.value.secret : null;
    } else if (
      options.apiSecret !== undefined &&
      !safeEqual(sha256Hex(options.apiSecret), existing.secretHash)
    ) {
      throw new StartupError(
        `IDSYNC_API_SECRET does not match the stored secret of API key ${options.apiKey}`,
      );
    }
  } else if ((await workspaces.listInputs(workspaceId)).length === 0) {
    const created = await workspaces.createInput(workspaceId, 'bootstrap', { allowKeyOnly });
    if (!created.ok) throw new StartupError(created.error.message);
    apiKey = created.value.key;
    apiSecret = created.value.secret;
  }

  let adminToken: string | null = null;
  if (options.adminToken !== undefined) {
    const status = await workspaces.adminTokenStatus(options.adminToken);
    if (status === 'revoked')
      throw new StartupError(
        'the admin token given with --admin-token (or IDSYNC_ADMIN_TOKEN) was revoked: start without it, or with a new token',
      );
    if (status === 'absent') await workspaces.createAdminToken('bootstrap', options.adminToken);
  } else if (!(await workspaces.hasAdminTokens())) {
    adminToken = (await workspaces.createAdminToken('bootstrap')).token;
  }
  return { workspaceId, createdWorkspace, adminToken, apiKey, apiSecret, inputKind };
}

export async function startServer(
  input: ServerOptionsInput,
  overrides: StartOverrides = {},
): Promise<RunningServer> {
  const parsed = ServerOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StartupError(`invalid option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const options = parsed.data;
  const target = databaseTarget(options);
  try {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StartupError(`cannot create the data folder ${options.dataDir}: ${(error as Error).message}`);
  }
  const loadedKey = ServerKey.load(options.serverKey, options.dataDir);
  if (!loadedKey.ok) throw new StartupError(loadedKey.error);
  const serverKey = loadedKey.value.key;
  const clock = overrides.clock ?? { now: () => Date.now() };
  const random = overrides.random ?? randomFromFill((buffer) => getRandomValues(buffer));
  let handle;
  try {
    handle = await openDatabase({ target, now: () => clock.now(), poolSize: options.pgPoolSize });
  } catch (error) {
    const where = isPostgresUrl(target) ? 'PostgreSQL' : `SQLite file ${target}`;
    throw new StartupError(`cannot open the database (${where}): ${(error as Error).message}`);
  }
  overrides.onDatabaseOpen?.(handle);
  const store = new SqlIdentityStore(handle);
  const workspaces = new WorkspaceStore(handle, serverKey, () => clock.now());
  const metrics = new Metrics(overrides.metricsWithProcess ?? true);
  const sqlite = handle.dialect === 'sqlite' ? handle.sqlite : null;
  if (sqlite !== null) metrics.countStatements(() => sqlite.statements);
  const logger = pino({ level: options.logLevel });
  const requestLog = new RequestLog(
    handle,
    {
      flushMs: options.requestLogFlushMs,
      flushRows: REQUEST_LOG_FLUSH_ROWS,
      retainRows: options.requestLogRetain,
    },
    (error) => logger.error({ err: error }, 'writing the request log failed; it will be retried'),
  );
  const profiles = new ProfileAdmin(handle, store, requestLog);
  const devices = new DeviceStore(handle, store, () => clock.now(), {
    onAnswered: (workspaceId, request, server) =>
      requestLog.append(deviceLogRow(workspaceId, request, server)),
    lastSeenResolutionMs: options.lastSeenResolutionMs,
  });
  let app: FastifyInstance | null = null;
  try {
    if (!(await workspaces.opensStoredSecrets()))
      throw new StartupError(
        `the server key from ${loadedKey.value.source} does not open the input secrets stored in ${handle.location}: ` +
          'start with the key they were sealed with (the server.key of the data folder this database was first ' +
          'started with, or the IDSYNC_SERVER_KEY given then)',
      );
    const boot = await bootstrap(workspaces, options);
    const appInput = await ensureAppInput(workspaces, boot.workspaceId);
    if (!appInput.ok) throw new StartupError(appInput.error.message);
    const aliasWorker = new AliasWorker(store, workspaces, clock, random, logger);
    const traceRetention = new TraceRetention(store, options.traceRetentionDays, clock, logger);
    app = await buildApp({
      handle,
      store,
      workspaces,
      profiles,
      devices,
      serverKey,
      clock,
      random,
      options,
      metrics,
      aliasWorker,
      logger,
      appInput: appInput.value,
      requestLog,
    });
    const address = await app.listen({ host: options.host, port: options.port });
    aliasWorker.start(options.aliasPollMs);
    traceRetention.start();
    const running = app;
    return {
      url: address,
      app: running,
      options,
      bootstrap: boot,
      database: handle.location,
      appInput: appInput.value,
      appUrl: appUrl(address),
      connectUrl: connectUrl(reachableBaseUrl(address, options.host, options.publicUrl), appInput.value.key),
      flushRequestLog: () => requestLog.flush(),
      expireTraces: () => traceRetention.expireNow(),
      async close() {
        await aliasWorker.stop();
        await traceRetention.stop();
        // Requests in flight get a grace period to answer; connections still open after it
        // (a client that keeps a connection alive) are closed so shutdown never hangs.
        const grace = setTimeout(() => running.server.closeAllConnections(), CLOSE_GRACE_MS);
        try {
          await running.close();
        } finally {
          clearTimeout(grace);
        }
        await requestLog.close();
        await handle.close();
      },
    };
  } catch (error) {
    if (app !== null) await app.close();
    await handle.close();
    throw error;
  }
}
