/**
 * The device replication protocol (SPEC SY-1..SY-12): what devices push and pull. Devices keep a
 * durable, ordered log of their identity requests; the server replays each device's requests in
 * sequence order and sends back the result of each, the profiles the device may see (restricted to
 * the identities it supplied itself), and accepts the device's events and attribute changes.
 *
 * Documents are the devices' RxDB documents; pushes are RxDB push rows, pulls return documents
 * plus a checkpoint. Every body is parsed with these schemas on both sides.
 */
import { z } from 'zod';
import { IdentityTypeSchema } from '../identity/identity-types.ts';
import { MpidSchema } from '../identity/mpid.ts';
import { EnvironmentSchema, ScopeConfigSchema } from '../identity/scope-config.ts';
import { jsonProblem, storedText } from '../identity/text.ts';
import { err, ok, type Result } from '../util/result.ts';
import { apiError, ErrorCodeSchema, type ApiError } from './errors.ts';
import { RequestIdSchema } from './idsync.ts';

/**
 * History (never rewrite an entry; same rules as PROTOCOL_VERSION in version.ts):
 *   1 — 2026-11: request log push/pull with server results, profile projections, events push,
 *       device registration with an optional device-generated secret (idempotent retries).
 *   2 — 2026-12: hostile values (SPEC HV-*): an event's `at` is an integer in [0, 8.64e15];
 *       device names, stamps, event names and event data are text that may be stored (no lone
 *       surrogate, no control character but tab, LF, CR); pushed JSON nests at most 32 levels.
 *   3 — 2026-12: devices send their version (`x-sync-protocol`) and the server refuses one it does
 *       not speak (SYNC_PROTOCOL_UNSUPPORTED); push error codes are a closed list; one call per
 *       round (`POST /sync/v2/round`) with pushed requests in a wire schema of their own.
 */
export const SYNC_PROTOCOL_VERSION = 3;
/** The oldest version this server still answers (devices below it must update the app). */
export const MIN_SUPPORTED_SYNC_PROTOCOL_VERSION = 1;
/** Devices built before version 3 send no version: they speak version 2 (or 1, which 2 extends). */
export const UNVERSIONED_SYNC_PROTOCOL = 2;
/** The header a device names its sync protocol version in, on every sync call. */
export const SYNC_PROTOCOL_HEADER = 'x-sync-protocol';

/**
 * The version a device speaks, from its header, if this server speaks it and it is at least
 * `minimum` (what the route needs); otherwise the catalogue error telling the person to update the
 * app (SPEC S2-6).
 */
export function syncProtocolOf(
  header: string | readonly string[] | undefined,
  minimum = MIN_SUPPORTED_SYNC_PROTOCOL_VERSION,
): Result<number, ApiError> {
  const range = `this server speaks sync protocol ${minimum}–${SYNC_PROTOCOL_VERSION}`;
  if (header === undefined) {
    if (UNVERSIONED_SYNC_PROTOCOL >= minimum) return ok(UNVERSIONED_SYNC_PROTOCOL);
    return err(
      apiError('SYNC_PROTOCOL_UNSUPPORTED', `this app is too old for the server (${range}): update the app`),
    );
  }
  const text = typeof header === 'string' ? header : header.join(',');
  if (!/^[0-9]{1,6}$/.test(text))
    return err(
      apiError(
        'SYNC_PROTOCOL_UNSUPPORTED',
        `${SYNC_PROTOCOL_HEADER} "${text.slice(0, 40)}" is not a version (${range}): update the app`,
      ),
    );
  const version = Number(text);
  if (version < minimum)
    return err(
      apiError(
        'SYNC_PROTOCOL_UNSUPPORTED',
        `this app speaks sync protocol ${version}, too old for the server (${range}): update the app`,
      ),
    );
  if (version > SYNC_PROTOCOL_VERSION)
    return err(
      apiError(
        'SYNC_PROTOCOL_UNSUPPORTED',
        `this app speaks sync protocol ${version}, newer than the server (${range}): use the app this server serves, or update the server`,
      ),
    );
  return ok(version);
}

const IdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'ids are 1-128 letters, digits, ".", "_", ":" or "-"');

/** Registration: a device proves the input key and gets a device credential (shown once). */
export const DeviceRegistrationSchema = z.object({
  device_id: IdSchema,
  name: storedText(100, 1).default('device'),
  device_application_stamp: storedText(256, 1),
  /**
   * A secret the device generated and stored before registering. Registering again with the same
   * id and secret answers the same credential, so a lost answer never locks a device out.
   */
  device_secret: z.string().min(32).max(200).optional(),
});
export type DeviceRegistration = z.infer<typeof DeviceRegistrationSchema>;
export const DeviceCredentialSchema = z.object({ device_id: IdSchema, device_secret: z.string().min(16) });
export type DeviceCredential = z.infer<typeof DeviceCredentialSchema>;

export const SYNCED_REQUEST_KINDS = ['identify', 'login', 'logout', 'modify', 'alias'] as const;
export const SyncedRequestKindSchema = z.enum(SYNCED_REQUEST_KINDS);
export type SyncedRequestKind = (typeof SYNCED_REQUEST_KINDS)[number];

/** The server's verdict on one replayed request. */
export const ServerResultSchema = z.object({
  status: z.enum(['applied', 'failed']),
  /** The canonical MPID the request resolved to (the modified / alias destination profile), if any. */
  mpid: MpidSchema.nullable(),
  response: z.unknown(),
  error: z.object({ code: ErrorCodeSchema, message: z.string() }).nullable(),
  trace: z.unknown(),
  processedAt: z.number(),
});
export type ServerResult = z.infer<typeof ServerResultSchema>;

/**
 * JSON a device sends that the server stores as it came (HV-2): bounded depth, so that serialising
 * it cannot exhaust the stack. Its identity values are checked by the resolver, with its codes.
 */
const BoundedJson = <S extends z.ZodType>(schema: S) =>
  schema.superRefine((value, ctx) => {
    const problem = jsonProblem(value, false);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: `the value ${problem}` });
  });

/**
 * One identity request in a device's log. The device writes it once, with its provisional answer;
 * the server fills `server` when it has replayed it. `modifyMpid` is the profile a modify names.
 */
export const SyncRequestSchema = z.object({
  requestId: RequestIdSchema,
  deviceId: IdSchema,
  seq: z.number().int().min(1).max(1e12),
  kind: SyncedRequestKindSchema,
  environment: EnvironmentSchema,
  body: BoundedJson(z.record(z.string(), z.unknown())),
  modifyMpid: MpidSchema.nullable(),
  createdAt: z.number(),
  /** The MPID the device answered with offline. */
  provisionalMpid: MpidSchema.nullable(),
  /** True when the device created that profile offline (the server adopts the MPID if it can). */
  createdProvisional: z.boolean(),
  server: ServerResultSchema.nullable(),
});
export type SyncRequest = z.infer<typeof SyncRequestSchema>;

/**
 * A request as a device pushes it through v2 (SPEC S2-8): the request and the device's provisional
 * answer, nothing of how the device stores it.
 */
export const PushedRequestSchema = SyncRequestSchema.omit({ server: true });
export type PushedRequest = z.infer<typeof PushedRequestSchema>;

/** The server's answer to one of the device's requests (v2). */
export const RequestResultSchema = z.object({
  requestId: RequestIdSchema,
  seq: z.number().int().min(1),
  server: ServerResultSchema,
});
export type RequestResult = z.infer<typeof RequestResultSchema>;

/**
 * A request as it travels in the device's `graph` collection (see shared/device): the resolver's
 * stored request (`stored`, the provisional answer and its trace) and the sync fields.
 */
export const SyncRequestDocSchema = z.object({
  id: z.string().max(600),
  kind: z.literal('request'),
  key: z.string().max(1200),
  mpid: z.string().max(24),
  seq: z.number(),
  due: z.number(),
  source: z.string().max(24),
  destination: z.string().max(24),
  data: z.object({ stored: BoundedJson(z.unknown()), sync: SyncRequestSchema }),
  _deleted: z.boolean().optional(),
});
export type SyncRequestDoc = z.infer<typeof SyncRequestDocSchema>;

/**
 * A profile as one device may see it: only the identity values that device supplied itself (and
 * not its last-seen time, which changes with every request anyone makes).
 */
export const ProfileProjectionSchema = z.object({
  id: MpidSchema,
  scopeId: z.string(),
  environment: EnvironmentSchema,
  identities: z.partialRecord(IdentityTypeSchema, z.array(z.string())),
  createdAt: z.number(),
  firstSeenAt: z.number(),
  orphanedAt: z.number().nullable(),
  _deleted: z.boolean(),
});
export type ProfileProjection = z.infer<typeof ProfileProjectionSchema>;

/**
 * Epoch milliseconds a device may report (HV-3): an integer within the range of a JavaScript `Date`
 * (±8.64e15, inside both a safe integer and a 64-bit column), never before 1970.
 */
export const EpochMsSchema = z.number().int().min(0).max(8.64e15);

/** Event data (HV-2): JSON of bounded depth whose keys and strings are text that may be stored. */
const EventDataSchema = z.record(z.string(), z.unknown()).superRefine((data, ctx) => {
  const problem = jsonProblem(data, true);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: `the data ${problem}` });
});

/** Activity recorded on a device, attributed through the identity request current when it happened. */
export const DeviceEventSchema = z.object({
  id: IdSchema,
  requestId: RequestIdSchema,
  type: z.enum(['event', 'attribute']),
  name: storedText(256, 1),
  data: EventDataSchema,
  at: EpochMsSchema,
  _deleted: z.boolean().optional(),
});
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;

export const PushRowSchema = <S extends z.ZodType>(doc: S) =>
  z.object({ assumedMasterState: doc.nullish(), newDocumentState: doc });

/**
 * Why the server could not take a pushed document (SPEC S2-1..S2-5). A closed list: the device
 * decides what to do by these codes, never by matching text.
 */
export const PUSH_ERROR_CODES = ['invalid', 'gap', 'seq_conflict', 'forbidden', 'workspace_missing'] as const;
export const PushErrorCodeSchema = z.enum(PUSH_ERROR_CODES);
export type PushErrorCode = z.infer<typeof PushErrorCodeSchema>;
/** The codes by name, for code that branches on one (`PushErrorCodes.gap`). */
export const PushErrorCodes = PushErrorCodeSchema.enum;

/** A document the server could not take, with the reason (shown to the person on the device). */
export const PushErrorSchema = z.object({ id: z.string(), code: PushErrorCodeSchema, message: z.string() });
export type PushError = z.infer<typeof PushErrorSchema>;

/** Pushes answer the server's state of conflicting documents, and per-document errors. */
export const PushResponseSchema = <S extends z.ZodType>(doc: S) =>
  z.object({ conflicts: z.array(doc), errors: z.array(PushErrorSchema) });

export const CheckpointSchema = z.object({ seq: z.number().int().min(0) });
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export const PullResponseSchema = <S extends z.ZodType>(doc: S) =>
  z.object({ documents: z.array(doc), checkpoint: CheckpointSchema });

export const DeviceConfigSchema = z.object({
  config: ScopeConfigSchema,
  version: z.number().int(),
  protocolVersion: z.number().int(),
  /** The largest body the server takes (`--body-limit`); devices size their rounds to it. */
  bodyLimit: z.number().int().min(1).optional(),
});
export type DeviceConfig = z.infer<typeof DeviceConfigSchema>;

/** Push of a device's requests: at most this many per call. */
export const MAX_PUSH_BATCH = 200;

/** Where a device's pulls got to: the change-feed positions of its requests and its profiles. */
export const RoundCheckpointSchema = z.object({
  requests: z.number().int().min(0),
  profiles: z.number().int().min(0),
});
export type RoundCheckpoint = z.infer<typeof RoundCheckpointSchema>;

/** Events a round carries at most. */
export const MAX_ROUND_EVENTS = 1000;

/**
 * One sync round (`POST /sync/v2/round`, SPEC S2-9): the device's unanswered requests (in order)
 * and unsent events, and its checkpoint. Each request and event is parsed on its own, so one bad
 * document is an error of its own (S2-1).
 */
export const RoundRequestSchema = z.object({
  checkpoint: RoundCheckpointSchema,
  requests: z.array(z.unknown()).max(MAX_PUSH_BATCH),
  events: z.array(z.unknown()).max(MAX_ROUND_EVENTS),
  /** Pulled changes per kind at most. */
  limit: z.number().int().min(1).max(500).default(100),
});
export type RoundRequest = z.input<typeof RoundRequestSchema>;

/**
 * The answer to a round: per-document errors, the results of the pushed requests and of every
 * request of the device changed since the checkpoint, the changed profile projections, the new
 * checkpoint, and whether more changes wait (the device asks again).
 */
export const RoundResponseSchema = z.object({
  requestErrors: z.array(PushErrorSchema),
  eventErrors: z.array(PushErrorSchema),
  results: z.array(RequestResultSchema),
  profiles: z.array(ProfileProjectionSchema),
  checkpoint: RoundCheckpointSchema,
  more: z.boolean(),
});
export type RoundResponse = z.infer<typeof RoundResponseSchema>;

/** The round needs this version at least (earlier devices use `/sync/v1`). */
export const ROUND_PROTOCOL_VERSION = 3;
