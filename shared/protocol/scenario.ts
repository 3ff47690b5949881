/**
 * Scenario files (JSON, SPEC SM-1..SM-6): a workspace config, named devices, and a timeline of steps
 * with expectations. Profiles are referred to by labels: `$name` binds a label to the MPID a step
 * returns, `@name` expects the MPID bound to that label, `!@name` expects any other MPID.
 * Documented in docs/scenarios.md.
 */
import { z } from 'zod';
import { ScopeConfigSchema } from '../identity/scope-config.ts';
import { EnvironmentSchema } from '../identity/scope-config.ts';

const Label = z
  .string()
  .regex(/^(\$|@|!@)[A-Za-z][A-Za-z0-9_-]*$/, 'a label is $name (bind), @name (same) or !@name (different)');
const Identities = z.record(z.string(), z.string().nullable());

/** What an identity step must answer, on the device at once or after the server replayed it. */
const AnswerExpectation = z
  .object({
    mpid: Label.optional(),
    created: z.boolean().optional(),
    loggedIn: z.boolean().optional(),
    /** The step must fail with this error code. */
    error: z.string().optional(),
    /** The step may fail (generated timelines: a refusal is a legitimate answer). */
    mayFail: z.boolean().optional(),
  })
  .strict();

const IdentityStep = z
  .object({
    device: z.string(),
    do: z.enum(['identify', 'login', 'logout']),
    identities: Identities.default({}),
    expect: AnswerExpectation.optional(),
    afterSync: AnswerExpectation.optional(),
  })
  .strict();

const ModifyStep = z
  .object({
    device: z.string(),
    do: z.literal('modify'),
    changes: z
      .array(
        z
          .object({
            type: z.string(),
            old: z.string().nullable().default(null),
            new: z.string().nullable().default(null),
          })
          .strict(),
      )
      .min(1),
    expect: AnswerExpectation.optional(),
    afterSync: AnswerExpectation.optional(),
  })
  .strict();

const AliasStep = z
  .object({
    device: z.string(),
    do: z.literal('alias'),
    source: Label,
    destination: Label,
    expect: AnswerExpectation.optional(),
    afterSync: AnswerExpectation.optional(),
  })
  .strict();

const TrackStep = z
  .object({
    device: z.string(),
    do: z.literal('track'),
    event: z.string().min(1),
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

const AttributeStep = z
  .object({ device: z.string(), do: z.literal('attribute'), key: z.string().min(1), value: z.unknown() })
  .strict();

const DeviceStep = z.object({ device: z.string(), do: z.enum(['offline', 'online', 'restart']) }).strict();

const SyncStep = z
  .object({ do: z.literal('sync'), device: z.string().optional(), order: z.array(z.string()).optional() })
  .strict();

/** Stops, starts or restarts the in-process server (not available against a live server). */
const ServerStep = z
  .object({ do: z.literal('server'), action: z.enum(['stop', 'start', 'restart']) })
  .strict();

const AdvanceStep = z.object({ do: z.literal('advance'), ms: z.number().int().min(0) }).strict();

const ProfileExpectation = z
  .object({
    mpid: Label,
    /** Exactly these identities (types not listed must be absent). */
    identities: z.record(z.string(), z.array(z.string())).optional(),
    /** Exactly these event names (in time order, attribute changes excluded) are attributed to the profile. */
    events: z.array(z.string()).optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
    orphaned: z.boolean().optional(),
  })
  .strict();

const NoticeExpectation = z
  .object({ kind: z.enum(['merged', 'identity_taken', 'failed', 'rejected']), code: z.string().optional() })
  .strict();

const DeviceExpectation = z
  .object({
    currentUser: Label.optional(),
    /** Requests still waiting for the server. */
    pending: z.number().int().min(0).optional(),
    /** Events and attribute changes kept on the device. */
    localEvents: z.number().int().min(0).optional(),
    /** The people the device knows (labels, any order). */
    people: z.array(Label).optional(),
    /** Notices the device has received so far, in order. */
    notices: z.array(NoticeExpectation).optional(),
  })
  .strict();

const ExpectStep = z
  .object({
    do: z.literal('expect'),
    profiles: z.array(ProfileExpectation).optional(),
    /** Labels of profiles the server must not hold (never created, or dropped). */
    absent: z.array(Label).optional(),
    /** Number of live profiles holding at least one identity, on the server. */
    profileCount: z.number().int().min(0).optional(),
    devices: z.record(z.string(), DeviceExpectation).optional(),
    /** Every online device's view equals the server's (runs a sync round first). */
    converged: z.boolean().optional(),
    /** The server's invariants hold (unique identities, requests applied once, events not duplicated). */
    invariants: z.boolean().optional(),
  })
  .strict();

export const StepSchema = z.union([
  IdentityStep,
  ModifyStep,
  AliasStep,
  TrackStep,
  AttributeStep,
  DeviceStep,
  SyncStep,
  ServerStep,
  AdvanceStep,
  ExpectStep,
]);
export type Step = z.infer<typeof StepSchema>;

export const ScenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    /** SPEC rule IDs the scenario checks (shown in test titles). */
    rules: z.array(z.string().regex(/^[A-Z]{2,3}-\d+$/, 'a rule ID looks like SY-4')).default([]),
    config: ScopeConfigSchema,
    devices: z.record(
      z.string().regex(/^[a-z][a-z0-9-]*$/),
      z.object({ environment: EnvironmentSchema.default('production') }).strict(),
    ),
    steps: z.array(StepSchema).min(1),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    const names = new Set(Object.keys(scenario.devices));
    scenario.steps.forEach((step, index) => {
      const mentioned = [
        ...('device' in step && step.device !== undefined ? [step.device] : []),
        ...('order' in step && step.order !== undefined ? step.order : []),
        ...('devices' in step && step.devices !== undefined ? Object.keys(step.devices) : []),
      ];
      for (const device of mentioned) {
        if (!names.has(device))
          ctx.addIssue({ code: 'custom', path: ['steps', index], message: `unknown device "${device}"` });
      }
    });
  });
export type Scenario = z.infer<typeof ScenarioSchema>;
export type AnswerExpectationT = z.infer<typeof AnswerExpectation>;
export type ProfileExpectationT = z.infer<typeof ProfileExpectation>;
export type DeviceExpectationT = z.infer<typeof DeviceExpectation>;
