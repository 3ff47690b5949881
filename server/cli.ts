/**
 * `npm start`: the central identity server. One command starts it on the embedded default (SQLite
 * in ./data) and prints the URL it listens on, the web app's URL and a link that connects another
 * device. Flags override environment variables.
 */
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type ServerOptionsInput } from './options.ts';
import { startServer, StartupError } from './server.ts';

const USAGE = `usage: npm start -- [options]

Starts the Identity Sync central server. Without options it keeps its data in SQLite under ./data
and listens on http://127.0.0.1:8080.

options (environment variable in brackets; flags win):
  --port <n>             port to listen on, 0 picks a free one            [IDSYNC_PORT, 8080]
  --host <address>       address to bind                                  [IDSYNC_HOST, 127.0.0.1]
  --database <target>    SQLite file, :memory:, or postgres://user:pass@host:5432/db
                                                                          [IDSYNC_DATABASE, <data-dir>/identity-sync.sqlite]
  --data-dir <dir>       folder for the SQLite file and server.key        [IDSYNC_DATA_DIR, data]
  --config <file>        workspace config (JSON) for the first workspace  [IDSYNC_CONFIG]
  --admin-token <token>  admin token to accept (created if missing)       [IDSYNC_ADMIN_TOKEN]
  --api-key <key>        API key of the bootstrap input                   [IDSYNC_API_KEY]
  --api-secret <secret>  its secret (generated when absent)               [IDSYNC_API_SECRET]
  --input-kind <kind>    browser: the bootstrap input accepts the key alone (whoever holds it may
                         call the IDSync API); server: HTTP Basic or HMAC only
                                                                          [IDSYNC_INPUT_KIND, browser]
  --cors-origin <url>    browser origin allowed on the IDSync API; repeat; * for any
                                                                          [IDSYNC_CORS_ORIGINS, comma-separated, *]
  --app-origin <origin>  origin allowed on the device sync API besides the server's own; repeat;
                         * for any (then any web page can register devices)
                                                                          [IDSYNC_APP_ORIGINS, comma-separated, app://identity-sync]
  --app-dir <dir>        the built web app, served under /app/            [IDSYNC_APP_DIR, dist/app]
  --public-url <url>     URL other devices reach this server at (for the app and its connect link)
                                                                          [IDSYNC_PUBLIC_URL, the URL each request was sent to]
  --rate-limit <n>       requests per second per API key or device, all routes together, 0 = off
                                                                          [IDSYNC_RATE_LIMIT, 200]
  --auth-failure-limit <n>
                         failed authentications per minute per client address, 0 = off
                                                                          [IDSYNC_AUTH_FAILURE_LIMIT, 60]
  --registration-limit <n>
                         device registrations per minute per API key, 0 = off
                                                                          [IDSYNC_REGISTRATION_LIMIT, 60]
  --body-limit <bytes>   largest request body                             [IDSYNC_BODY_LIMIT, 65536]
  --pg-pool-size <n>     PostgreSQL connections the server keeps          [IDSYNC_PG_POOL_SIZE, 2 per CPU core, at least 4]
  --alias-poll-ms <ms>   how often delayed aliases are looked for         [IDSYNC_ALIAS_POLL_MS, 1000]
  --headers-timeout <ms> time to receive a request's headers              [IDSYNC_HEADERS_TIMEOUT, 15000]
  --request-timeout <ms> time to receive a whole request                  [IDSYNC_REQUEST_TIMEOUT, 60000]
  --keep-alive-timeout <ms> idle time before a kept-alive connection closes [IDSYNC_KEEP_ALIVE_TIMEOUT, 5000]
  --idle-timeout <ms>    a connection silent both ways this long closes   [IDSYNC_IDLE_TIMEOUT, 120000]
  --streams-per-device <n> event streams per device (a new one closes the oldest)
                                                                          [IDSYNC_STREAMS_PER_DEVICE, 4]
  --streams-per-input <n> event streams per input key (more are refused)  [IDSYNC_STREAMS_PER_INPUT, 1000]
  --max-streams <n>      event streams on this server (more are refused)  [IDSYNC_MAX_STREAMS, 4000]
  --lab-simulator <file> the bundled simulator the Conversion Lab runs     [IDSYNC_LAB_SIMULATOR, dist/simulate.mjs]
  --lab-timeout <ms>     time one Lab run (one strategy) may take          [IDSYNC_LAB_TIMEOUT, 30000]
  --last-seen-resolution <ms> a profile's last-seen time is written when older than this; 0 = always
                                                                          [IDSYNC_LAST_SEEN_RESOLUTION, 0]
  --request-log-retain <n> requests kept per workspace for what-if replay [IDSYNC_REQUEST_LOG_RETAIN, 1000000]
  --request-log-flush <ms> how often the request log is written           [IDSYNC_REQUEST_LOG_FLUSH, 200]
  --trace-retention-days <n> days a stored request keeps its explain trace; 0 = for ever
                                                                          [IDSYNC_TRACE_RETENTION_DAYS, 0]
  --log-level <level>    ${LOG_LEVELS.join(', ')}               [IDSYNC_LOG_LEVEL, info]
  -h, --help             this text
  (environment only) IDSYNC_SERVER_KEY: base64url key (32+ bytes) that seals input secrets;
                     default: <data-dir>/server.key, created on first start

On first start the server creates a workspace (from --config, or the default profile-conversion
config), an input and an admin token, and prints the new credentials once. It also keeps a key-only
input for the web app, and prints the app's URL and a link that connects another device's app to
this server (bind --host 0.0.0.0, or set --public-url, for other devices to reach it).`;

/** Printed with a new bootstrap key: what holding the key alone allows (HL-7). */
const INPUT_KIND_NOTE = {
  browser:
    'browser input: the key alone authorises every IDSync call; --input-kind server for Basic/HMAC only',
  server: 'server-to-server input: HTTP Basic or HMAC only',
} as const;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function options(argv: string[], env: NodeJS.ProcessEnv): ServerOptionsInput {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        database: { type: 'string' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        'admin-token': { type: 'string' },
        'api-key': { type: 'string' },
        'api-secret': { type: 'string' },
        'input-kind': { type: 'string' },
        'cors-origin': { type: 'string', multiple: true },
        'app-origin': { type: 'string', multiple: true },
        'app-dir': { type: 'string' },
        'public-url': { type: 'string' },
        'rate-limit': { type: 'string' },
        'auth-failure-limit': { type: 'string' },
        'registration-limit': { type: 'string' },
        'body-limit': { type: 'string' },
        'pg-pool-size': { type: 'string' },
        'alias-poll-ms': { type: 'string' },
        'headers-timeout': { type: 'string' },
        'request-timeout': { type: 'string' },
        'keep-alive-timeout': { type: 'string' },
        'idle-timeout': { type: 'string' },
        'streams-per-device': { type: 'string' },
        'streams-per-input': { type: 'string' },
        'max-streams': { type: 'string' },
        'lab-simulator': { type: 'string' },
        'lab-timeout': { type: 'string' },
        'last-seen-resolution': { type: 'string' },
        'request-log-retain': { type: 'string' },
        'request-log-flush': { type: 'string' },
        'trace-retention-days': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] === '' ? undefined : env[name]);
  const list = (flag: string[] | undefined, name: string) =>
    flag ??
    env[name]
      ?.split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
  const entries = {
    port: pick(v.port, 'IDSYNC_PORT'),
    host: pick(v.host, 'IDSYNC_HOST'),
    database: pick(v.database, 'IDSYNC_DATABASE'),
    dataDir: pick(v['data-dir'], 'IDSYNC_DATA_DIR'),
    configFile: pick(v.config, 'IDSYNC_CONFIG'),
    adminToken: pick(v['admin-token'], 'IDSYNC_ADMIN_TOKEN'),
    apiKey: pick(v['api-key'], 'IDSYNC_API_KEY'),
    apiSecret: pick(v['api-secret'], 'IDSYNC_API_SECRET'),
    inputKind: pick(v['input-kind'], 'IDSYNC_INPUT_KIND'),
    corsOrigins: list(v['cors-origin'], 'IDSYNC_CORS_ORIGINS'),
    appOrigins: list(v['app-origin'], 'IDSYNC_APP_ORIGINS'),
    appDir: pick(v['app-dir'], 'IDSYNC_APP_DIR'),
    publicUrl: pick(v['public-url'], 'IDSYNC_PUBLIC_URL'),
    rateLimitPerSecond: pick(v['rate-limit'], 'IDSYNC_RATE_LIMIT'),
    authFailureLimit: pick(v['auth-failure-limit'], 'IDSYNC_AUTH_FAILURE_LIMIT'),
    registrationLimit: pick(v['registration-limit'], 'IDSYNC_REGISTRATION_LIMIT'),
    bodyLimitBytes: pick(v['body-limit'], 'IDSYNC_BODY_LIMIT'),
    pgPoolSize: pick(v['pg-pool-size'], 'IDSYNC_PG_POOL_SIZE'),
    aliasPollMs: pick(v['alias-poll-ms'], 'IDSYNC_ALIAS_POLL_MS'),
    headersTimeoutMs: pick(v['headers-timeout'], 'IDSYNC_HEADERS_TIMEOUT'),
    requestTimeoutMs: pick(v['request-timeout'], 'IDSYNC_REQUEST_TIMEOUT'),
    keepAliveTimeoutMs: pick(v['keep-alive-timeout'], 'IDSYNC_KEEP_ALIVE_TIMEOUT'),
    idleTimeoutMs: pick(v['idle-timeout'], 'IDSYNC_IDLE_TIMEOUT'),
    streamsPerDevice: pick(v['streams-per-device'], 'IDSYNC_STREAMS_PER_DEVICE'),
    streamsPerInput: pick(v['streams-per-input'], 'IDSYNC_STREAMS_PER_INPUT'),
    maxStreams: pick(v['max-streams'], 'IDSYNC_MAX_STREAMS'),
    labSimulator: pick(v['lab-simulator'], 'IDSYNC_LAB_SIMULATOR'),
    labTimeoutMs: pick(v['lab-timeout'], 'IDSYNC_LAB_TIMEOUT'),
    lastSeenResolutionMs: pick(v['last-seen-resolution'], 'IDSYNC_LAST_SEEN_RESOLUTION'),
    requestLogRetain: pick(v['request-log-retain'], 'IDSYNC_REQUEST_LOG_RETAIN'),
    requestLogFlushMs: pick(v['request-log-flush'], 'IDSYNC_REQUEST_LOG_FLUSH'),
    traceRetentionDays: pick(v['trace-retention-days'], 'IDSYNC_TRACE_RETENTION_DAYS'),
    logLevel: pick(v['log-level'], 'IDSYNC_LOG_LEVEL'),
    serverKey: pick(undefined, 'IDSYNC_SERVER_KEY'),
  };
  const defined: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(entries)) if (value !== undefined) defined[name] = value;
  return defined;
}

async function main(): Promise<void> {
  let server;
  try {
    server = await startServer(options(process.argv.slice(2), process.env));
  } catch (error) {
    if (error instanceof StartupError) fail(error.message);
    throw error;
  }
  // Handlers go in before the URL is printed: whoever reads it may signal at once.
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) process.exit(1);
    closing = true;
    process.stdout.write(`${signal}: finishing in-flight requests and closing the database\n`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while closing: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const { bootstrap } = server;
  const lines = [
    `Identity Sync server listening on ${server.url}`,
    `database: ${server.database}`,
    `workspace: ${bootstrap.workspaceId}`,
  ];
  if (bootstrap.apiKey !== null)
    lines.push(`API key: ${bootstrap.apiKey} (${INPUT_KIND_NOTE[bootstrap.inputKind]})`);
  if (bootstrap.apiSecret !== null) lines.push(`API secret (shown once): ${bootstrap.apiSecret}`);
  if (bootstrap.adminToken !== null) lines.push(`admin token (shown once): ${bootstrap.adminToken}`);
  lines.push(`API docs: ${server.url}/docs`);
  lines.push(`app: ${server.appUrl}`);
  lines.push(`connect another device: ${server.connectUrl}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
