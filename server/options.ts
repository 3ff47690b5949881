/**
 * Server options, from flags and environment variables (flags win). Validated like every other
 * boundary: a bad value stops the server with a message naming the option.
 */
import path from 'node:path';
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ServerOptionsSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  dataDir: z.string().min(1).default('data'),
  /** SQLite file, ":memory:", or a postgres:// URL; default `<dataDir>/identity-sync.sqlite`. */
  database: z.string().min(1).optional(),
  /** A workspace config file (JSON) used when the server creates its first workspace. */
  configFile: z.string().min(1).optional(),
  /** Origins allowed to call the IDSync API from a browser; `*` allows any. Admin routes never allow CORS. */
  corsOrigins: z.array(z.string().min(1)).default(['*']),
  /** Requests per second allowed per API key on the IDSync API; 0 switches the limit off. */
  rateLimitPerSecond: z.coerce.number().int().min(0).default(200),
  /** Largest accepted request body, in bytes (after gzip decoding). */
  bodyLimitBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  /** How often due aliases are looked for, in ms. */
  aliasPollMs: z.coerce.number().int().min(10).default(1000),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  adminToken: z.string().min(16, 'an admin token has at least 16 characters').optional(),
  apiKey: z.string().min(8).max(128).optional(),
  apiSecret: z.string().min(16, 'an API secret has at least 16 characters').optional(),
  serverKey: z.string().min(1).optional(),
});
export type ServerOptionsInput = z.input<typeof ServerOptionsSchema>;
export type ServerOptions = z.output<typeof ServerOptionsSchema>;

export function databaseTarget(options: ServerOptions): string {
  return options.database ?? path.join(options.dataDir, 'identity-sync.sqlite');
}
