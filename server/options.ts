/**
 * Server options, from flags and environment variables (flags win). Validated like every other
 * boundary: a bad value stops the server with a message naming the option.
 */
import path from 'node:path';
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * What the bootstrap input is for (HL-7): `browser` allows the key alone (a browser cannot keep a
 * secret, so the key alone authorises every IDSync call); `server` needs HTTP Basic or HMAC.
 */
export const INPUT_KINDS = ['browser', 'server'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/** The origin the Electron shell loads the renderer from. */
const DESKTOP_APP_ORIGIN = 'app://identity-sync';

/** `scheme://host[:port]`, as browsers send it in `Origin` (custom schemes included), or `*`. */
const OriginSchema = z
  .string()
  .regex(/^(\*|[a-z][a-z0-9+.-]*:\/\/[^/\s?#]+)$/i, 'an origin is scheme://host[:port], or *');

/** An http(s) URL without query or fragment; kept without its trailing slash. */
const PublicUrlSchema = z
  .url({ protocol: /^https?$/, error: 'a public URL is http(s)://host[:port][/path]' })
  .refine((value) => {
    const url = new URL(value);
    return url.search === '' && url.hash === '';
  }, 'a public URL has no query or fragment')
  .transform((value) => new URL(value).href.replace(/\/+$/, ''));

export const ServerOptionsSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    dataDir: z.string().min(1).default('data'),
    /** SQLite file, ":memory:", or a postgres:// URL; default `<dataDir>/identity-sync.sqlite`. */
    database: z.string().min(1).optional(),
    /** A workspace config file (JSON) used when the server creates its first workspace. */
    configFile: z.string().min(1).optional(),
    /** Origins allowed to call the IDSync API from a browser; `*` allows any. Admin routes never allow CORS. */
    corsOrigins: z.array(z.string().min(1)).default(['*']),
    /** Origins (besides the server's own) allowed to call the device sync API; `*` allows any. */
    appOrigins: z.array(OriginSchema).default([DESKTOP_APP_ORIGIN]),
    /** The built renderer served under /app/. */
    appDir: z.string().min(1).default(path.join('dist', 'app')),
    /** The URL other devices reach this server at; default: the origin each request was sent to. */
    publicUrl: PublicUrlSchema.optional(),
    /** Requests per second per authenticated input key or device, all routes together (HL-2, HL-3); 0 = off. */
    rateLimitPerSecond: z.coerce.number().int().min(0).default(200),
    /** Failed authentications per minute per client address (HL-5); 0 = off. */
    authFailureLimit: z.coerce.number().int().min(0).default(60),
    /** Device registrations per minute per input key (HL-4); 0 = off. */
    registrationLimit: z.coerce.number().int().min(0).default(60),
    /** Largest accepted request body, in bytes (after gzip decoding). */
    bodyLimitBytes: z.coerce
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    /** Time allowed to receive a request's headers, in ms (slow-header clients are cut off). */
    headersTimeoutMs: z.coerce.number().int().min(100).default(15_000),
    /** Time allowed to receive a whole request, body included, in ms; event streams are exempt once open. */
    requestTimeoutMs: z.coerce.number().int().min(100).default(60_000),
    /** How long an idle connection is kept open for the next request, in ms. */
    keepAliveTimeoutMs: z.coerce.number().int().min(100).default(5_000),
    /** A connection with no traffic either way for this long is closed, in ms (event streams send heartbeats). */
    idleTimeoutMs: z.coerce.number().int().min(1000).default(120_000),
    /** Open event streams per device; a new one beyond it closes the device's oldest. */
    streamsPerDevice: z.coerce.number().int().min(1).default(4),
    /** Open event streams per input key; beyond it new ones are refused (429). */
    streamsPerInput: z.coerce.number().int().min(1).default(1000),
    /** Open event streams on this server; beyond it new ones are refused (503). */
    maxStreams: z.coerce.number().int().min(1).default(4000),
    /**
     * PostgreSQL connections the server keeps (SPEC PG-13; `defaultPgPoolSize()` when unset). More
     * connections than the database's cores can run at once only add backends that wait and switch
     * (docs/performance.md, session 25).
     */
    pgPoolSize: z.coerce.number().int().min(1).max(1000).optional(),
    /** How often due aliases are looked for, in ms. */
    aliasPollMs: z.coerce.number().int().min(10).default(1000),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    adminToken: z.string().min(16, 'an admin token has at least 16 characters').optional(),
    apiKey: z.string().min(8).max(128).optional(),
    apiSecret: z.string().min(16, 'an API secret has at least 16 characters').optional(),
    /** The kind of bootstrap input to create; unset: `browser`, and an existing input is taken as it is. */
    inputKind: z.enum(INPUT_KINDS).optional(),
    serverKey: z.string().min(1).optional(),
    /** The simulator the Conversion Lab runs (LB-1): the bundled one, or simulator/cli.ts (run with tsx). */
    labSimulator: z.string().min(1).default(path.join('dist', 'simulate.mjs')),
    /**
     * A Lab run (one strategy) taking longer is killed and reported, in ms (LB-5). Five runs, two
     * at a time, take at most three of these: keep that under `idleTimeoutMs`, which closes the
     * quiet connection waiting for the answer.
     */
    labTimeoutMs: z.coerce.number().int().min(100).default(30_000),
    /** Coarse last-seen (LS-3): a returned profile's last-seen time is written when at least this old, in ms; 0 = always. */
    lastSeenResolutionMs: z.coerce.number().int().min(0).default(0),
    /** Requests kept per workspace in the request log what-if replays (LS-7). */
    requestLogRetain: z.coerce.number().int().min(1).default(1_000_000),
    /** The request log is written every this many ms (or every 500 requests, whichever comes first). */
    requestLogFlushMs: z.coerce.number().int().min(1).max(60_000).default(200),
    /** Days a stored request keeps its explain trace (LS-10); 0 = kept for ever. */
    traceRetentionDays: z.coerce.number().int().min(0).max(36_500).default(0),
  })
  .refine((o) => o.headersTimeoutMs <= o.requestTimeoutMs, {
    path: ['headersTimeoutMs'],
    message: 'the headers timeout is at most the request timeout',
  });
export type ServerOptionsInput = z.input<typeof ServerOptionsSchema>;
export type ServerOptions = z.output<typeof ServerOptionsSchema>;

export function databaseTarget(options: ServerOptions): string {
  return options.database ?? path.join(options.dataDir, 'identity-sync.sqlite');
}
