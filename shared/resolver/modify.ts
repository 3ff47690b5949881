/**
 * Modify (SPEC MD-1..MD-11). Adds, changes or removes identifiers of one existing record; never
 * creates a record and never answers with another MPID. All changes are validated first and then
 * applied in array order, atomically. A unique value taken by modify is removed from whichever
 * record held it, and a record left with no identifiers is orphaned. Immutable identities may be
 * set once and never changed or removed (A8); a value held immutably by another record cannot be
 * taken. A stale `old_value` is tolerated (A9).
 */
import { UNMODIFIABLE_IDENTITY_TYPES, type IdentityType } from '../identity/identity-types.ts';
import { normaliseIdentityValue } from '../identity/normalise.ts';
import {
  ModifyRequestBodySchema,
  PathMpidSchema,
  type IdentityChange,
  type ModifyResponse,
} from '../protocol/idsync.ts';
import { apiError, type ApiError } from '../protocol/errors.ts';
import { parseWith } from '../protocol/parse.ts';
import { randomUuid } from '../util/random.ts';
import { err, ok, type Result } from '../util/result.ts';
import { compileConfig, type CompiledConfig } from './compiled-config.ts';
import { historyEntry, resolveContext, type ResolveContext, type ResolveOptions } from './context.ts';
import {
  checkReplay,
  commitUnlessEmpty,
  leanRequest,
  RECOMPUTED_NOTE,
  requestFingerprint,
} from './idempotency.ts';
import { failure, type ResolutionFailure } from './outcome.ts';
import { isOrphan } from './profiles.ts';
import type { NewHistoryEntry, ProfileRecord, StoredRequest } from './records.ts';
import { store, type IdentityKey, type Program, type StoreChange } from './store-port.ts';
import { TRACE_VERSION, writeTrace, type ExplainTrace, type WriteTrace } from './trace.ts';

export interface ModifySuccess {
  readonly requestId: string;
  readonly mpid: string;
  readonly response: ModifyResponse;
  readonly trace: ExplainTrace;
  readonly replayed: boolean;
}

export type ModifyOutcome = Result<ModifySuccess, ResolutionFailure>;

interface NormalisedChange {
  readonly type: IdentityType;
  readonly oldValue: string | null;
  readonly newValue: string | null;
}

/** Static checks of every change before anything is looked up (MD-2, MD-3, MD-9). */
function normaliseChanges(
  cc: CompiledConfig,
  changes: readonly IdentityChange[],
): Result<NormalisedChange[], ApiError> {
  const out: NormalisedChange[] = [];
  for (const [index, change] of changes.entries()) {
    const path = `identity_changes[${index}]`;
    if (UNMODIFIABLE_IDENTITY_TYPES.has(change.type)) {
      return err(
        apiError('IDENTITY_NOT_MODIFIABLE', `${change.type} is set by the SDK and cannot be modified`, path),
      );
    }
    if (!cc.inPriority.has(change.type)) {
      return err(
        apiError(
          'IDENTITY_NOT_MODIFIABLE',
          `${change.type} is not in the workspace's identity priority, so profiles do not store it`,
          path,
        ),
      );
    }
    const norm = (v: string | null) =>
      v === null ? null : normaliseIdentityValue(cc.config.normalisation, change.type, v);
    const oldValue = norm(change.oldValue);
    const newValue = norm(change.newValue);
    if (newValue !== null && (newValue === '' || cc.blocked.isBlocked(newValue))) {
      return err(
        apiError(
          'BLOCKED_IDENTITY_VALUE',
          `"${newValue.slice(0, 64)}" is a blocked placeholder value`,
          `${path}.new_value`,
        ),
      );
    }
    if (oldValue === null && newValue === null) {
      return err(apiError('VALIDATION_ERROR', 'a change needs an old_value, a new_value or both', path));
    }
    out.push({ type: change.type, oldValue, newValue });
  }
  return ok(out);
}

/** Mutable copies of the loaded records' identities, for simulating the changes in order. */
class Simulation {
  private readonly identities = new Map<string, Map<IdentityType, string[]>>();
  readonly changes: StoreChange[] = [];
  readonly history: NewHistoryEntry[] = [];
  readonly writes: WriteTrace[] = [];
  readonly touched = new Set<string>();

  constructor(
    private readonly ctx: ResolveContext,
    records: readonly ProfileRecord[],
  ) {
    for (const record of records) {
      const map = new Map<IdentityType, string[]>();
      for (const key in record.identities) {
        const type = key as IdentityType;
        map.set(type, [...(record.identities[type] ?? [])]);
      }
      this.identities.set(record.mpid, map);
    }
  }

  values(mpid: string, type: IdentityType): string[] {
    return this.identities.get(mpid)?.get(type) ?? [];
  }

  holdersOf(type: IdentityType, value: string, except: string): string[] {
    const out: string[] = [];
    for (const [mpid, map] of this.identities)
      if (mpid !== except && map.get(type)?.includes(value)) out.push(mpid);
    return out;
  }

  /** Known after the changes so far: holds a login-type value. */
  isKnown(mpid: string, loginTypes: readonly IdentityType[]): boolean {
    return loginTypes.some((type) => this.values(mpid, type).length > 0);
  }

  isEmpty(mpid: string): boolean {
    for (const values of this.identities.get(mpid)?.values() ?? []) if (values.length > 0) return false;
    return true;
  }

  remove(mpid: string, type: IdentityType, value: string, movedTo: string | null): void {
    const values = this.identities.get(mpid)?.get(type);
    const index = values?.indexOf(value) ?? -1;
    if (values === undefined || index < 0) return;
    values.splice(index, 1);
    this.touched.add(mpid);
    this.changes.push({ op: 'removeIdentity', mpid, identityType: type, value });
    if (movedTo === null) {
      this.history.push(
        historyEntry(this.ctx, 'identity_removed', mpid, 'modify', { identityType: type, value }),
      );
      this.writes.push(writeTrace('remove_identity', mpid, type, value));
    } else {
      this.history.push(
        historyEntry(this.ctx, 'identity_moved', mpid, `unique value taken by modify of ${movedTo}`, {
          identityType: type,
          value,
          otherMpid: movedTo,
        }),
      );
      this.writes.push(writeTrace('move_identity', mpid, type, value, movedTo));
    }
  }

  add(mpid: string, type: IdentityType, value: string, unique: boolean): void {
    const map = this.identities.get(mpid);
    if (map === undefined) return;
    const values = map.get(type) ?? [];
    if (values.includes(value)) return;
    map.set(type, [...values, value]);
    this.touched.add(mpid);
    this.changes.push({ op: 'addIdentity', mpid, identityType: type, value, unique });
    this.history.push(
      historyEntry(this.ctx, 'identity_added', mpid, 'modify', { identityType: type, value }),
    );
    this.writes.push(writeTrace('add_identity', mpid, type, value));
  }

  orphanEmptied(): void {
    for (const mpid of this.touched) {
      if (!this.isEmpty(mpid)) continue;
      this.changes.push({ op: 'updateProfile', mpid, patch: { orphanedAt: this.ctx.options.now } });
      this.history.push(
        historyEntry(this.ctx, 'profile_orphaned', mpid, 'its last identifier was removed by modify'),
      );
      this.writes.push(writeTrace('orphan_profile', mpid));
    }
  }
}

/** Applies one change to the simulation, or explains why it is refused (MD-4..MD-8). */
function applyChange(
  sim: Simulation,
  cc: CompiledConfig,
  target: string,
  change: NormalisedChange,
  path: string,
): ApiError | null {
  const { type, oldValue, newValue } = change;
  const held = sim.values(target, type);
  if (cc.immutable.has(type)) {
    if (newValue === null) {
      return held.length > 0
        ? apiError('IMMUTABLE_IDENTITY', `${type} is immutable and cannot be removed`, path)
        : null;
    }
    if (held.length > 0 && !held.includes(newValue)) {
      return apiError('IMMUTABLE_IDENTITY', `${type} is immutable and cannot be changed once set`, path);
    }
    if (sim.holdersOf(type, newValue, target).length > 0) {
      return apiError(
        'IMMUTABLE_IDENTITY',
        `${type} "${newValue.slice(0, 64)}" is held immutably by another profile`,
        path,
      );
    }
  }
  if (oldValue !== null && oldValue !== newValue) sim.remove(target, type, oldValue, null);
  if (newValue === null) return null;
  if (cc.unique.has(type)) {
    for (const other of sim.holdersOf(type, newValue, target)) sim.remove(other, type, newValue, target);
    for (const value of [...sim.values(target, type)])
      if (value !== newValue) sim.remove(target, type, value, null);
  }
  sim.add(target, type, newValue, cc.unique.has(type));
  return null;
}

export function* modifyProgram(
  mpidInput: unknown,
  body: unknown,
  options: ResolveOptions,
): Program<ModifyOutcome> {
  const mpid = parseWith(PathMpidSchema, mpidInput);
  if (!mpid.ok) return failure(mpid.error);
  const parsed = parseWith(ModifyRequestBodySchema, body);
  if (!parsed.ok) return failure(parsed.error);
  const request = parsed.value;
  const clientRequestId = request.requestId;
  const cc = compileConfig(options.config);
  const changes = normaliseChanges(cc, request.changes);
  if (!changes.ok) return failure(changes.error, clientRequestId);
  const print = requestFingerprint('modify', [request.environment, mpid.value, request.changes]);
  const replay = yield* checkReplay(options.config.scopeId, clientRequestId, 'modify', print);
  if (replay.kind === 'conflict') return replay.failure;
  if (replay.kind === 'replay' && replay.stored.trace !== null) {
    return ok(replayed(mpid.value, replay.stored, replay.stored.trace));
  }
  /** A replay of a modify that kept no trace: recompute it read-only, answer the stored response. */
  const replayOf = replay.kind === 'replay' ? replay.stored : null;
  const requestId = clientRequestId ?? randomUuid(options.random);
  const ctx = resolveContext(options, request.environment, requestId);
  const keys: IdentityKey[] = [];
  for (const change of changes.value) {
    if (change.newValue !== null) keys.push({ identityType: change.type, value: change.newValue });
  }
  const records = yield* store.loadProfiles(ctx.ns, keys, [mpid.value]);
  const target = records.find((r) => r.mpid === mpid.value);
  if (target === undefined || isOrphan(target)) {
    if (replayOf !== null)
      return ok(replayed(mpid.value, replayOf, unrecomputable(options, requestId, mpid.value)));
    return failure(
      apiError('LOOKUP_ERROR', `no profile ${mpid.value} in this workspace and environment`),
      clientRequestId,
    );
  }
  const sim = new Simulation(ctx, records);
  for (const [index, change] of changes.value.entries()) {
    const refused = applyChange(sim, cc, target.mpid, change, `identity_changes[${index}]`);
    if (refused !== null) {
      if (replayOf !== null)
        return ok(replayed(mpid.value, replayOf, unrecomputable(options, requestId, mpid.value)));
      return failure(refused, clientRequestId);
    }
  }
  sim.orphanEmptied();
  const response: ModifyResponse = {
    mpid: target.mpid,
    is_logged_in: sim.isKnown(target.mpid, cc.loginList),
    change_results: changes.value.map((c) => ({ identity_type: c.type, modified_mpid: target.mpid })),
  };
  const trace: ExplainTrace = {
    version: TRACE_VERSION,
    kind: 'modify',
    requestId,
    strategy: cc.config.strategy,
    identities: [],
    previousMpid: null,
    lookups: [],
    situation: null,
    branch: 'modify',
    writes: sim.writes,
    skipped: [],
    result: { mpid: target.mpid, created: false },
    notes: [
      ...(sim.changes.length === 0 ? ['no change: the profile already matched the request'] : []),
      ...(replayOf !== null ? [RECOMPUTED_NOTE] : []),
    ],
  };
  if (replayOf !== null) return ok(replayed(mpid.value, replayOf, trace));
  if (options.readOnly !== true) {
    const stored: StoredRequest = {
      scopeId: ctx.ns.scopeId,
      requestId,
      kind: 'modify',
      environment: ctx.ns.environment,
      fingerprint: print,
      at: options.now,
      actor: options.actor,
      mpids: [target.mpid, ...[...sim.touched].filter((m) => m !== target.mpid)],
      status: 200,
      response,
      trace,
    };
    yield* commitUnlessEmpty({
      changes: sim.changes,
      history: sim.history,
      request: leanRequest(stored, sim.history.length > 0, clientRequestId),
    });
  }
  return ok({ requestId, mpid: target.mpid, response, trace, replayed: false });
}

/** The trace of a replayed no-change modify whose profile has changed too much to recompute it. */
function unrecomputable(options: ResolveOptions, requestId: string, mpid: string): ExplainTrace {
  return {
    version: TRACE_VERSION,
    kind: 'modify',
    requestId,
    strategy: options.config.strategy,
    identities: [],
    previousMpid: null,
    lookups: [],
    situation: null,
    branch: 'modify',
    writes: [],
    skipped: [],
    result: { mpid, created: false },
    notes: [`${RECOMPUTED_NOTE}, which no longer allows it`],
  };
}

function replayed(mpid: string, stored: StoredRequest, trace: ExplainTrace): ModifySuccess {
  return {
    requestId: stored.requestId,
    mpid,
    response: stored.response as ModifyResponse,
    trace,
    replayed: true,
  };
}
