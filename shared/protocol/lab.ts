/**
 * The Conversion Lab (SPEC LB-*): `POST /admin/v1/lab/runs` runs one scenario file under one or
 * more strategies with the simulator of `npm run simulate`, each run in a child process of its own
 * with its own temporary server. These schemas are the wire contract: the server parses the
 * simulator's JSON report with `ScenarioReportSchema` (it crosses a process boundary) and the
 * admin UI parses the answer with `LabRunResponseSchema`.
 */
import { z } from 'zod';
import { IdentityTypeSchema } from '../identity/identity-types.ts';
import {
  EnvironmentSchema,
  ScopeConfigSchema,
  STRATEGIES,
  StrategySchema,
  type Strategy,
} from '../identity/scope-config.ts';
import { ALIAS_STATUSES } from '../resolver/records.ts';
import { err, ok, type Result } from '../util/result.ts';
import { apiErrorFromIssues } from './parse.ts';
import type { ApiError } from './errors.ts';
import type { Scenario } from './scenario.ts';

/** One answer to one identity step: the profile, whether it was created, or the error code. */
export const StepAnswerSchema = z.object({
  mpid: z.string().nullable(),
  created: z.boolean().nullable(),
  loggedIn: z.boolean().nullable(),
  error: z.string().nullable(),
});
export type StepAnswer = z.infer<typeof StepAnswerSchema>;

/** The server's identity graph after a step: every profile of the workspace and every alias. */
export const GraphSnapshotSchema = z.object({
  profiles: z.array(
    z.object({
      mpid: z.string(),
      environment: EnvironmentSchema,
      identities: z.partialRecord(IdentityTypeSchema, z.array(z.string()).readonly()),
      orphaned: z.boolean(),
    }),
  ),
  aliases: z.array(
    z.object({ id: z.string(), source: z.string(), destination: z.string(), status: z.enum(ALIAS_STATUSES) }),
  ),
});
export type GraphSnapshot = z.infer<typeof GraphSnapshotSchema>;

/**
 * What one step did: the device's answer at once, the server's answer to the same request once it
 * was replayed (null: never replayed), and each device's current user after the step (a device
 * that is closed keeps the value last read), logged in or not. `serverAnswerSeenAt` is the step at whose sync the
 * run first saw the server's answer (where an `afterSync` expectation is checked; the step count
 * + 1: only after the last step, or not while the device was open); null when never replayed.
 */
export const TimelineStepSchema = z.object({
  step: z.number().int().min(1),
  do: z.string(),
  device: z.string().nullable(),
  answer: StepAnswerSchema.nullable(),
  serverAnswer: StepAnswerSchema.nullable(),
  serverAnswerSeenAt: z.number().int().min(1).nullable(),
  /** The server's explain trace of the request (TR-*; read with `parseExplainTrace`), null if none. */
  serverTrace: z.unknown().nullable(),
  currentUsers: z.record(z.string(), z.string().nullable()),
  /** Per device, whether its current user is logged in (known) or anonymous; null: no user yet. */
  loggedIn: z.record(z.string(), z.boolean().nullable()),
  /** The server's graph after the step; null while the server is down. */
  graph: GraphSnapshotSchema.nullable(),
});
export type TimelineStep = z.infer<typeof TimelineStepSchema>;

/** A profile as the server holds it after the last step (null fields: the server has no such profile). */
export const FinalProfileSchema = z.object({
  mpid: z.string(),
  found: z.boolean(),
  identities: z.record(z.string(), z.array(z.string())),
  events: z.array(z.string()),
  attributes: z.record(z.string(), z.unknown()),
  orphaned: z.boolean(),
});
export type FinalProfile = z.infer<typeof FinalProfileSchema>;

/** A device after the last step, in the terms of a scenario's device expectation. */
export const FinalDeviceSchema = z.object({
  currentUser: z.string().nullable(),
  pending: z.number().int().min(0),
  localEvents: z.number().int().min(0),
  people: z.array(z.string()),
  notices: z.array(
    z.object({
      kind: z.enum(['merged', 'identity_taken', 'failed', 'rejected']),
      code: z.string().optional(),
    }),
  ),
  /** The device's application stamp (a scenario writes it `device:<name>`). */
  applicationStamp: z.string(),
});
export type FinalDevice = z.infer<typeof FinalDeviceSchema>;

/**
 * The state after the last step (`--timeline`): every device, and, when the server is up, the
 * number of live profiles holding an identity and every profile the timeline or a device named.
 */
export const FinalStateSchema = z.object({
  devices: z.record(z.string(), FinalDeviceSchema),
  server: z
    .object({ profileCount: z.number().int().min(0), profiles: z.array(FinalProfileSchema) })
    .nullable(),
});
export type FinalState = z.infer<typeof FinalStateSchema>;

/** The simulator's report of one scenario run (`npm run simulate -- --json`, one per line). */
export const ScenarioReportSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  steps: z.number().int(),
  expectations: z.number().int(),
  failures: z.array(z.object({ step: z.number().int(), message: z.string() })),
  durationMs: z.number(),
  faults: z.record(z.string(), z.number()),
  /** Set when the run was asked for its timeline (`--timeline`). */
  timeline: z.array(TimelineStepSchema).optional(),
  /** Set with the timeline: what the devices and the server hold after the last step. */
  finalState: FinalStateSchema.optional(),
});
export type ScenarioReport = z.infer<typeof ScenarioReportSchema>;

/** The body; `scenario` is checked separately so its errors point into the file (LB-2). */
export const LabRunRequestSchema = z
  .object({
    scenario: z.unknown(),
    /** Default: all five strategies. */
    strategies: z
      .array(StrategySchema)
      .min(1)
      .max(STRATEGIES.length)
      .refine((list) => new Set(list).size === list.length, 'a strategy is listed twice')
      .optional(),
  })
  .strict();
export type LabRunRequest = z.infer<typeof LabRunRequestSchema>;

const LAB_FAILURE_REASONS = ['timeout', 'crashed', 'output_too_large', 'bad_output'] as const;

/**
 * One strategy's run: its report, a config the strategy does not allow, a run that broke, or one
 * stopped before it ended because its job was cancelled or its request's client went away.
 */
export const LabStrategyRunSchema = z.discriminatedUnion('status', [
  z.object({ strategy: StrategySchema, status: z.literal('completed'), report: ScenarioReportSchema }),
  z.object({
    strategy: StrategySchema,
    status: z.literal('invalid_config'),
    message: z.string(),
    path: z.string().optional(),
  }),
  z.object({
    strategy: StrategySchema,
    status: z.literal('failed'),
    reason: z.enum(LAB_FAILURE_REASONS),
    message: z.string(),
  }),
  z.object({ strategy: StrategySchema, status: z.literal('cancelled') }),
]);
export type LabStrategyRun = z.infer<typeof LabStrategyRunSchema>;

export const LabRunResponseSchema = z.object({ runs: z.array(LabStrategyRunSchema) });
export type LabRunResponse = z.infer<typeof LabRunResponseSchema>;

/** The login/unique identities a strategy's preset uses, when the file's own lists do not fit it. */
const PRESET_LOGIN: Record<Strategy, readonly string[]> = {
  profile_conversion: ['customerid'],
  default: ['customerid'],
  profile_link: ['customerid', 'email'],
  profile_isolation: ['customerid', 'email'],
  best_match: [],
};

/**
 * The scenario's config under another strategy (LB-3): the strategy's fixed lists where it fixes
 * them (default: customer ID only and immutable; best match: none), the file's own lists
 * otherwise, or the strategy's preset (limited to the file's priority) when the file has none.
 * A config the strategy still refuses is an error at its path, not a run.
 */
export function scenarioUnderStrategy(scenario: Scenario, strategy: Strategy): Result<Scenario, ApiError> {
  const { config } = scenario;
  if (strategy === config.strategy) return ok(scenario);
  const preset = PRESET_LOGIN[strategy].filter((t) => config.identityPriority.some((p) => p === t));
  const fixed =
    strategy === 'best_match'
      ? { loginIdentities: [], uniqueIdentities: [], immutableIdentities: [] }
      : strategy === 'default'
        ? {
            loginIdentities: ['customerid'],
            uniqueIdentities: ['customerid'],
            immutableIdentities: ['customerid'],
          }
        : config.loginIdentities.length === 0
          ? { loginIdentities: preset, uniqueIdentities: preset, immutableIdentities: [] }
          : {};
  const parsed = ScopeConfigSchema.safeParse({ ...config, strategy, ...fixed });
  if (!parsed.success) {
    const error = apiErrorFromIssues(parsed.error.issues, 'INVALID_CONFIG');
    return err({ ...error, path: `config${error.path === undefined ? '' : `.${error.path}`}` });
  }
  return ok({ ...scenario, config: parsed.data });
}
