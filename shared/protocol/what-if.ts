/**
 * What-if replay (SPEC WI-*): `POST /admin/v1/workspaces/{workspace}/what-if` replays the
 * workspace's recorded request log under another config in an isolated in-memory store and
 * answers the requests whose outcome would differ. These schemas are the wire contract; the admin
 * UI parses the response with `WhatIfResponseSchema`.
 */
import { z } from 'zod';

const WHAT_IF_DEFAULT_LIMIT = 100_000;
const WHAT_IF_MAX_LIMIT = 1_000_000;
const WHAT_IF_DEFAULT_DIFFERENCES = 100;
const WHAT_IF_MAX_DIFFERENCES = 1_000;

const TimeMs = z.number().int().nonnegative();

/** The body; `config` is checked separately, exactly like a config update (WI-2). */
export const WhatIfRequestSchema = z
  .object({
    config: z.unknown(),
    /** Report differences of requests accepted at or after this time (the replay still starts at the first request). */
    from: TimeMs.optional(),
    /** Replay requests accepted at or before this time only. */
    to: TimeMs.optional(),
    /** At most this many requests are replayed; beyond it the answer says `truncated`. */
    limit: z.number().int().min(1).max(WHAT_IF_MAX_LIMIT).default(WHAT_IF_DEFAULT_LIMIT),
    /** At most this many differences are listed; `summary.outcomesChanged` counts them all. */
    maxDifferences: z.number().int().min(0).max(WHAT_IF_MAX_DIFFERENCES).default(WHAT_IF_DEFAULT_DIFFERENCES),
  })
  .strict()
  .refine((b) => b.from === undefined || b.to === undefined || b.from <= b.to, {
    message: 'from must not be after to',
    path: ['from'],
  });
export type WhatIfRequest = z.infer<typeof WhatIfRequestSchema>;

const WHAT_IF_SOURCES = ['api', 'device'] as const;

/** One answer to one request: the profile, whether it was created, or the error code. */
export const WhatIfAnswerSchema = z.object({
  mpid: z.string().nullable(),
  created: z.boolean(),
  error: z.string().nullable(),
});
export type WhatIfAnswer = z.infer<typeof WhatIfAnswerSchema>;

export const WhatIfDifferenceSchema = z.object({
  /** Position in the replayed log, from 1. */
  position: z.number().int().positive(),
  at: TimeMs,
  source: z.enum(WHAT_IF_SOURCES),
  deviceId: z.string().nullable(),
  requestId: z.string(),
  kind: z.string(),
  old: WhatIfAnswerSchema,
  new: WhatIfAnswerSchema,
  /** Why, in words: the recorded trace's headline and the replayed trace's steps (TR-5). */
  why: z.object({
    old: z.string().nullable(),
    new: z.string().nullable(),
    steps: z.array(z.string()),
  }),
  /** The replayed explain trace, for tools that render it themselves. */
  trace: z.unknown().nullable(),
});
export type WhatIfDifference = z.infer<typeof WhatIfDifferenceSchema>;

/** Requests the log holds but cannot replay, by reason (WI-4): their body was deleted with a person (AD-6). */
export const WHAT_IF_SKIP_REASONS = ['body_deleted'] as const;

export const WhatIfResponseSchema = z.object({
  workspace: z.string(),
  summary: z.object({
    /** Requests in the log up to `to`. */
    logged: z.number().int().nonnegative(),
    /**
     * The times of the first and last request in the log read (null when it is empty): the log
     * keeps a limited number of requests per workspace (LS-7), so older ones are not replayed.
     */
    window: z.object({ from: TimeMs.nullable(), to: TimeMs.nullable() }),
    replayed: z.number().int().nonnegative(),
    /** Replayed requests at or after `from` (the ones compared). */
    compared: z.number().int().nonnegative(),
    outcomesChanged: z.number().int().nonnegative(),
    skipped: z.partialRecord(z.enum(WHAT_IF_SKIP_REASONS), z.number().int().positive()),
    /** The limit stopped the replay before the end of the log. */
    truncated: z.boolean(),
    /** More differences exist than were listed. */
    differencesTruncated: z.boolean(),
  }),
  differences: z.array(WhatIfDifferenceSchema),
});
export type WhatIfResponse = z.infer<typeof WhatIfResponseSchema>;
