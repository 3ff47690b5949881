/**
 * IDSync HTTP API v1 bodies (SPEC PR-1..PR-9), wire-compatible with mParticle's identity API
 * (spec §4): identify, login, logout and search share one request body; modify and alias have
 * their own. Unknown top-level fields are ignored (SDKs add fields over time); unknown identity
 * keys are rejected (§1.6 decision). Parsed bodies use canonical identity keys and camelCase.
 */
import { z } from 'zod';
import {
  canonicalIdentityType,
  IdentityTypeSchema,
  MAX_IDENTITY_VALUE_LENGTH,
  type IdentityType,
} from '../identity/identity-types.ts';
import { EnvironmentSchema } from '../identity/scope-config.ts';
import { isMpid, MpidSchema, parseMpid } from '../identity/mpid.ts';
import { textProblem } from '../identity/text.ts';
import { ok, type Result } from '../util/result.ts';
import type { ApiError } from './errors.ts';
import { parseWith } from './parse.ts';

/** Identity type → value, canonical keys only. */
export type IdentityMap = Partial<Record<IdentityType, string>>;

export const MAX_REQUEST_ID_LENGTH = 128;
export const MAX_CONTEXT_LENGTH = 4096;
const MAX_IDENTITY_KEYS = 64;

const REQUEST_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
export const RequestIdSchema = z
  .string()
  .regex(REQUEST_ID_PATTERN, 'a request_id is 1-128 printable ASCII characters without spaces');

const ClientSdkSchema = z.object({
  platform: z.string().max(32).optional(),
  sdk_vendor: z.string().max(64).optional(),
  sdk_version: z.string().max(64).optional(),
});

type Ctx = z.core.$RefinementCtx;

function reject(ctx: Ctx, reason: string, message: string, path: (string | number)[]): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, path, params: { reason } });
  return z.NEVER;
}

/** What a check does with a problem: report it (a zod issue) or give up on the fast path. */
type Reject<F> = (reason: string, message: string, path: (string | number)[]) => F;

function zodReject(ctx: Ctx): Reject<typeof z.NEVER> {
  return (reason, message, path) => reject(ctx, reason, message, path);
}

/**
 * Checks one identity value: `null` and `""` mean "absent"; anything else must be a short string
 * of text that may be stored (HV-1, HV-2: well-formed, no control characters).
 */
function identityValue<F>(value: unknown, problem: Reject<F>, path: (string | number)[]): string | null | F {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') {
    return problem('INVALID_IDENTITY_VALUE', `identity values are strings, got ${typeof value}`, path);
  }
  if (value.length > MAX_IDENTITY_VALUE_LENGTH) {
    return problem(
      'INVALID_IDENTITY_VALUE',
      `identity value is ${value.length} characters; the limit is ${MAX_IDENTITY_VALUE_LENGTH}`,
      path,
    );
  }
  const text = textProblem(value);
  return text === null ? value : problem('INVALID_IDENTITY_VALUE', `identity value ${text}`, path);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `known_identities`: alternate spellings become canonical keys, `null`/`""` values are dropped
 * (§2.1.2), and at least one identity must remain (§2.1.1). The first problem goes to `problem`,
 * whose answer is returned.
 */
function knownIdentities<F>(raw: unknown, problem: Reject<F>): IdentityMap | F {
  if (!isPlainObject(raw)) return problem('VALIDATION_ERROR', 'known_identities must be an object', []);
  const keys = Object.keys(raw);
  if (keys.length > MAX_IDENTITY_KEYS) {
    return problem(
      'VALIDATION_ERROR',
      `known_identities has ${keys.length} keys; at most ${MAX_IDENTITY_KEYS}`,
      [],
    );
  }
  const out: IdentityMap = {};
  let count = 0;
  for (const key of keys) {
    const type = canonicalIdentityType(key);
    if (type === null)
      return problem('UNKNOWN_IDENTITY_TYPE', `unknown identity type "${key.slice(0, 64)}"`, [key]);
    const value = identityValue(raw[key], problem, [key]);
    if (value === null) continue;
    if (typeof value !== 'string') return value;
    const existing = out[type];
    if (existing !== undefined && existing !== value) {
      return problem('DUPLICATE_IDENTITY_TYPE', `two different values for identity type "${type}"`, [key]);
    }
    if (existing === undefined) count++;
    out[type] = value;
  }
  if (count === 0) {
    return problem('VALIDATION_ERROR', 'known_identities must contain at least one non-empty identity', []);
  }
  return out;
}

export const KnownIdentitiesSchema = z
  .unknown()
  .transform((raw, ctx): IdentityMap => knownIdentities(raw, zodReject(ctx)));

/** `previous_mpid`: absent, `null`, `"0"` and `0` all mean "no current user" (§4.3). */
const PreviousMpidSchema = z
  .unknown()
  .optional()
  .transform((raw, ctx): string | null => {
    if (raw === undefined || raw === null || raw === '0' || raw === 0 || raw === '') return null;
    const mpid = parseMpid(raw);
    return mpid ?? reject(ctx, 'INVALID_MPID', 'previous_mpid is not a valid MPID', []);
  });

const envelope = {
  client_sdk: ClientSdkSchema.nullish(),
  environment: EnvironmentSchema,
  request_id: RequestIdSchema.nullish(),
  request_timestamp_ms: z.number().int().min(0).nullish(),
};

export const IdentityRequestBodySchema = z
  .object({
    ...envelope,
    context: z.string().max(MAX_CONTEXT_LENGTH).nullish(),
    previous_mpid: PreviousMpidSchema,
    known_identities: KnownIdentitiesSchema,
  })
  .transform((body) => ({
    environment: body.environment,
    requestId: body.request_id ?? null,
    previousMpid: body.previous_mpid,
    knownIdentities: body.known_identities,
  }));
export type IdentityRequestBody = z.output<typeof IdentityRequestBodySchema>;

/** The fast path's answer to any problem: leave the body to the schema. */
const TO_SCHEMA: unique symbol = Symbol('to schema');
const toSchema: Reject<typeof TO_SCHEMA> = () => TO_SCHEMA;

function absent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

function shortText(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length <= max;
}

function clientSdkFine(value: unknown): boolean {
  if (absent(value)) return true;
  return (
    isPlainObject(value) &&
    (value['platform'] === undefined || shortText(value['platform'], 32)) &&
    (value['sdk_vendor'] === undefined || shortText(value['sdk_vendor'], 64)) &&
    (value['sdk_version'] === undefined || shortText(value['sdk_version'], 64))
  );
}

/**
 * The parsed body of a well-formed identify/login/logout/search request without zod's generic
 * machinery, or `TO_SCHEMA` for anything else (SPEC HM-5). It accepts only bodies the schema
 * accepts and gives the schema's output for them (a property test holds the two equal).
 */
function wellFormedIdentityBody(body: unknown): IdentityRequestBody | typeof TO_SCHEMA {
  if (!isPlainObject(body)) return TO_SCHEMA;
  const environment = body['environment'];
  if (environment !== 'production' && environment !== 'development') return TO_SCHEMA;
  const requestId = body['request_id'];
  if (!absent(requestId) && !(typeof requestId === 'string' && REQUEST_ID_PATTERN.test(requestId)))
    return TO_SCHEMA;
  const timestamp = body['request_timestamp_ms'];
  if (!absent(timestamp) && !(Number.isSafeInteger(timestamp) && (timestamp as number) >= 0))
    return TO_SCHEMA;
  const context = body['context'];
  if (!absent(context) && !shortText(context, MAX_CONTEXT_LENGTH)) return TO_SCHEMA;
  if (!clientSdkFine(body['client_sdk'])) return TO_SCHEMA;
  const previous = body['previous_mpid'];
  let previousMpid: string | null = null;
  if (!(absent(previous) || previous === '0' || previous === 0 || previous === '')) {
    previousMpid = parseMpid(previous);
    if (previousMpid === null) return TO_SCHEMA;
  }
  const identities = knownIdentities(body['known_identities'], toSchema);
  if (identities === TO_SCHEMA) return TO_SCHEMA;
  return {
    environment,
    requestId: absent(requestId) ? null : requestId,
    previousMpid,
    knownIdentities: identities,
  };
}

/**
 * Parses an identify/login/logout/search body: `IdentityRequestBodySchema` is the definition, and
 * its result and its errors are what this gives for every input (SPEC HM-5). A well-formed body
 * takes a direct check; anything else, every error included, goes through the schema.
 */
export function parseIdentityRequestBody(body: unknown): Result<IdentityRequestBody, ApiError> {
  const fast = wellFormedIdentityBody(body);
  return fast === TO_SCHEMA ? parseWith(IdentityRequestBodySchema, body) : ok(fast);
}

const IdentityTypeKeySchema = z.string().transform((key, ctx): IdentityType => {
  const type = canonicalIdentityType(key);
  return type ?? reject(ctx, 'UNKNOWN_IDENTITY_TYPE', `unknown identity type "${key.slice(0, 64)}"`, []);
});

const ChangeValueSchema = z
  .union([z.string(), z.null()])
  .transform((value, ctx): string | null => identityValue(value, zodReject(ctx), []));

export const IdentityChangeSchema = z
  .object({
    identity_type: IdentityTypeKeySchema,
    old_value: ChangeValueSchema,
    new_value: ChangeValueSchema,
  })
  .transform((change) => ({
    type: change.identity_type,
    oldValue: change.old_value,
    newValue: change.new_value,
  }));
export type IdentityChange = z.output<typeof IdentityChangeSchema>;

export const ModifyRequestBodySchema = z
  .object({ ...envelope, identity_changes: z.array(IdentityChangeSchema).max(MAX_IDENTITY_KEYS) })
  .transform((body) => ({
    environment: body.environment,
    requestId: body.request_id ?? null,
    changes: body.identity_changes,
  }));
export type ModifyRequestBody = z.output<typeof ModifyRequestBodySchema>;

/** The MPID in the modify path (`/v1/{mpid}/modify`). */
export const PathMpidSchema = z.unknown().transform((raw, ctx): string => {
  if (typeof raw === 'string' && isMpid(raw)) return raw;
  return reject(ctx, 'INVALID_MPID', 'the path does not carry a valid MPID', []);
});

const RequiredMpidSchema = z
  .unknown()
  .optional()
  .transform((raw, ctx): string => {
    if (raw === undefined || raw === null) return reject(ctx, 'VALIDATION_ERROR', 'an MPID is required', []);
    return parseMpid(raw) ?? reject(ctx, 'INVALID_MPID', 'not a valid MPID', []);
  });

const TimeMsSchema = z.number().int().min(0).max(8.64e15);

/** The SDK alias wire body (§5.2). Times are optional: the server applies the window defaults. */
export const AliasRequestBodySchema = z
  .object({
    request_id: RequestIdSchema.nullish(),
    request_type: z.literal('alias').optional(),
    environment: EnvironmentSchema,
    api_key: z.string().max(256).optional(),
    data: z.object({
      source_mpid: RequiredMpidSchema,
      destination_mpid: RequiredMpidSchema,
      start_unixtime_ms: TimeMsSchema.nullish(),
      end_unixtime_ms: TimeMsSchema.nullish(),
      scope: z.enum(['device', 'mpid']).nullish(),
      device_application_stamp: z
        .string()
        .max(MAX_IDENTITY_VALUE_LENGTH)
        .nullish()
        .superRefine((stamp, ctx) => {
          const problem = typeof stamp === 'string' ? textProblem(stamp) : null;
          if (problem !== null) reject(ctx, 'INVALID_IDENTITY_VALUE', `the stamp ${problem}`, []);
        }),
    }),
  })
  .transform((body) => ({
    environment: body.environment,
    requestId: body.request_id ?? null,
    sourceMpid: body.data.source_mpid,
    destinationMpid: body.data.destination_mpid,
    startMs: body.data.start_unixtime_ms ?? null,
    endMs: body.data.end_unixtime_ms ?? null,
    scope: body.data.scope ?? 'device',
    deviceApplicationStamp: body.data.device_application_stamp ?? null,
  }));
export type AliasRequestBody = z.output<typeof AliasRequestBodySchema>;

/** 200 body of identify / login / logout / search (§4.4). */
export const IdentityResponseSchema = z.object({
  context: z.string().nullable(),
  mpid: MpidSchema,
  matched_identities: z.partialRecord(IdentityTypeSchema, z.string()),
  is_ephemeral: z.boolean(),
  is_logged_in: z.boolean(),
});
export type IdentityResponse = z.infer<typeof IdentityResponseSchema>;

/**
 * 200 body of modify (§4.5): `change_results` names the profile each change modified. `mpid` and
 * `is_logged_in` are there for the web SDK, which reads `is_logged_in` from every identity
 * response, modify included, and would otherwise mark the user logged out.
 */
export const ModifyResponseSchema = z.object({
  mpid: MpidSchema,
  is_logged_in: z.boolean(),
  change_results: z.array(z.object({ identity_type: IdentityTypeSchema, modified_mpid: MpidSchema })),
});
export type ModifyResponse = z.infer<typeof ModifyResponseSchema>;
