/**
 * The admin dashboard's wire schemas (SPEC AA-1..AA-4): resolutions by outcome over time, the
 * anonymous-to-known conversion rate and sync lag per device. Times are epoch milliseconds; a
 * bucket starts at a multiple of its size since the epoch (UTC hours and days).
 */
import { z } from 'zod';

export const STATS_BUCKETS = { hour: 3_600_000, day: 86_400_000 } as const;
export type StatsBucket = keyof typeof STATS_BUCKETS;
/** A window may span at most this many buckets (AA-1). */
export const MAX_STATS_BUCKETS = 2000;
export const DEFAULT_STATS_WINDOW_MS = 86_400_000;

/** The request kinds the dashboard counts. */
export const RESOLUTION_KINDS = ['identify', 'login', 'logout', 'modify'] as const;
/**
 * What a resolution did (AA-2): `created` a profile, `matched` an existing one, `converted` an
 * anonymous profile into the known user (the `convert_anonymous` branch), or `failed`.
 */
export const RESOLUTION_OUTCOMES = ['created', 'matched', 'converted', 'failed'] as const;

const EpochMs = z.coerce.number().int().min(0).max(8_640_000_000_000_000);

/** The query string; `from` and `to` default to the last day up to now. */
export const StatsQuerySchema = z
  .object({
    from: EpochMs.optional(),
    to: EpochMs.optional(),
    bucket: z.enum(['hour', 'day']).default('hour'),
  })
  .strict();
export type StatsQuery = z.output<typeof StatsQuerySchema>;

export const ResolutionCountSchema = z.object({
  bucketStart: z.number().int(),
  kind: z.enum(RESOLUTION_KINDS),
  outcome: z.enum(RESOLUTION_OUTCOMES),
  count: z.number().int().positive(),
});
export type ResolutionCount = z.infer<typeof ResolutionCountSchema>;

export const ConversionSchema = z.object({
  /** Profiles created in the window without a login identity. */
  startedAnonymous: z.number().int().nonnegative(),
  /** Of those, the ones that gained a login identity later, before the window's end. */
  converted: z.number().int().nonnegative(),
  /** converted / startedAnonymous; null when nothing started anonymous. */
  rate: z.number().min(0).max(1).nullable(),
});
export type Conversion = z.infer<typeof ConversionSchema>;

export const DeviceLagSchema = z.object({
  id: z.string(),
  name: z.string(),
  revoked: z.boolean(),
  lastSeenAt: z.number().int(),
  /** When the server last stored a pushed request of this device; null if it never pushed one. */
  lastAcceptedAt: z.number().int().nullable(),
  /** The server's clock minus lastSeenAt. */
  lagMs: z.number().int(),
  nextSeq: z.number().int().positive(),
});
export type DeviceLag = z.infer<typeof DeviceLagSchema>;

/** At most this many devices are listed, the longest unseen first (AA-4). */
export const MAX_LAG_DEVICES = 200;

export const StatsSchema = z.object({
  workspace: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  bucket: z.enum(['hour', 'day']),
  bucketMs: z.number().int().positive(),
  /** Non-zero counts only, ordered by bucket, kind, outcome. */
  resolutions: z.array(ResolutionCountSchema),
  conversion: ConversionSchema.extend({
    /** The same figures per creation bucket, non-empty buckets only. */
    byBucket: z.array(ConversionSchema.extend({ bucketStart: z.number().int() })),
  }),
  devices: z.object({
    total: z.number().int().nonnegative(),
    lag: z.array(DeviceLagSchema),
  }),
});
export type Stats = z.infer<typeof StatsSchema>;
