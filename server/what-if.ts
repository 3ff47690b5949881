/**
 * What-if replay (SPEC WI-*): runs a workspace's recorded request log under a candidate config
 * through the same resolver programs, on a fresh in-memory store that nothing else sees, and
 * compares each answer with the recorded one. The workspace's own data is only read.
 *
 * Faithfulness (WI-5): a request that created a profile creates it again under the MPID it got
 * then (when free), so the same config gives the same MPIDs; a client names the MPIDs it was
 * answered, so every MPID a replayed request names is mapped from the recorded world to the
 * replayed one (the latest answer pairing wins); device requests are translated the way the
 * device store translates them (the device's provisional MPIDs to the answers its own requests
 * got) and a device may act only on profiles in its replayed view (HT-1). Due aliases are
 * processed before each request, at its time.
 */
import type { ScopeConfig } from '../shared/identity/scope-config.ts';
import { MemoryIdentityStore } from '../shared/memory-store/memory-store.ts';
import { apiError } from '../shared/protocol/errors.ts';
import type {
  WhatIfAnswer,
  WhatIfDifference,
  WhatIfRequest,
  WhatIfResponse,
  WHAT_IF_SKIP_REASONS,
} from '../shared/protocol/what-if.ts';
import { aliasProgram, processNextAliasProgram } from '../shared/resolver/alias.ts';
import type { ResolveOptions } from '../shared/resolver/context.ts';
import { explainInWords } from '../shared/resolver/explain-in-words.ts';
import { identityProgram } from '../shared/resolver/identify.ts';
import { modifyProgram } from '../shared/resolver/modify.ts';
import type { ResolutionFailure } from '../shared/resolver/outcome.ts';
import { runInTransactionSync, type Program } from '../shared/resolver/store-port.ts';
import type { ExplainTrace } from '../shared/resolver/trace.ts';
import type { RandomSource } from '../shared/util/random.ts';
import type { Result } from '../shared/util/result.ts';
import type { ApiRequest, DeviceRequestEntry, LoggedRequest } from './db/what-if-log.ts';

type SkipReason = (typeof WHAT_IF_SKIP_REASONS)[number];
type Outcome = Result<{ trace: ExplainTrace }, ResolutionFailure>;

/** What the replay remembers of one device: its requests' provisional MPIDs and replayed answers. */
interface DeviceState {
  /** Provisional MPID → the replayed answer to the device's first request that carried it. */
  readonly firstAnswers: Map<string, string | null>;
  readonly view: Set<string>;
  /** The device's latest identify/login/logout. */
  lastIdentity?: { provisional: string | null; answer: string | null };
}

const MAX_ALIAS_DRAIN = 10_000;
const IDENTITY_KINDS = new Set(['identify', 'login', 'logout']);

export interface WhatIfRun {
  readonly workspace: string;
  readonly config: ScopeConfig;
  readonly request: WhatIfRequest;
  readonly random: RandomSource;
}

export function replayWhatIf(log: readonly LoggedRequest[], run: WhatIfRun): WhatIfResponse {
  const { config, request } = run;
  // Nobody asks the replay's store why: differences carry the traces the replay computes.
  const store = new MemoryIdentityStore({ keepTraces: false });
  /** Recorded MPID → the MPID the replay answered in its place. */
  const world = new Map<string, string>();
  const devices = new Map<string, DeviceState>();
  const mapped = (mpid: string | null) => (mpid === null ? null : (world.get(mpid) ?? mpid));
  const differences: WhatIfDifference[] = [];
  const skipped: Partial<Record<SkipReason, number>> = {};
  let replayed = 0;
  let compared = 0;
  let changed = 0;
  let truncated = false;

  for (const entry of log) {
    if (replayed >= request.limit) {
      truncated = true;
      break;
    }
    const options = (preferred: string | null): ResolveOptions => ({
      config,
      random: run.random,
      now: entry.at,
      actor:
        entry.source === 'device' ? { kind: 'device', id: entry.deviceId } : { kind: 'app', id: 'what-if' },
      ...(preferred === null ? {} : { preferredMpid: preferred }),
    });
    drainAliases(store, options(null));
    if (entry.source === 'api' ? entry.request === null : entry.doc === null) {
      skipped.body_deleted = (skipped.body_deleted ?? 0) + 1;
      continue;
    }
    const preferred =
      entry.recorded.created && entry.recorded.mpid !== null
        ? entry.recorded.mpid
        : entry.source === 'device' && entry.doc?.data.sync.createdProvisional === true
          ? entry.doc.data.sync.provisionalMpid
          : null;
    let outcome: Outcome;
    if (entry.source === 'api') {
      const program = apiProgram(entry.request as ApiRequest, mapped, options(preferred));
      outcome = runInTransactionSync(store, program) as Outcome;
    } else {
      let device = devices.get(entry.deviceId);
      if (device === undefined)
        devices.set(entry.deviceId, (device = { firstAnswers: new Map(), view: new Set() }));
      outcome = replayDevice(store, entry as DeviceRequestEntry, device, mapped, options(preferred));
      const sync = (entry as DeviceRequestEntry).doc.data.sync;
      const answer = outcome.ok ? outcome.value.trace.result.mpid : null;
      const provisional = sync.provisionalMpid;
      if (provisional !== null && !device.firstAnswers.has(provisional))
        device.firstAnswers.set(provisional, answer);
      if (IDENTITY_KINDS.has(sync.kind)) device.lastIdentity = { provisional, answer };
      if (answer !== null) device.view.add(answer);
    }
    replayed++;
    const now = answerOf(outcome);
    if (entry.recorded.mpid !== null && now.mpid !== null) world.set(entry.recorded.mpid, now.mpid);
    if (request.from !== undefined && entry.at < request.from) continue;
    compared++;
    if (sameAnswer(entry.recorded, now)) continue;
    changed++;
    if (differences.length < request.maxDifferences)
      differences.push(difference(entry, replayed, now, outcome));
  }
  return {
    workspace: run.workspace,
    summary: {
      logged: log.length,
      window: { from: log[0]?.at ?? null, to: log.at(-1)?.at ?? null },
      replayed,
      compared,
      outcomesChanged: changed,
      skipped,
      truncated,
      differencesTruncated: changed > differences.length,
    },
    differences,
  };
}

function drainAliases(store: MemoryIdentityStore, options: ResolveOptions): void {
  for (let i = 0; i < MAX_ALIAS_DRAIN; i++) {
    if (runInTransactionSync(store, () => processNextAliasProgram(options)) === null) return;
  }
}

/** The MPIDs a body names under `field`, mapped from the recorded world to the replayed one. */
function withMapped(
  body: unknown,
  fields: readonly string[],
  mapped: (mpid: string | null) => string | null,
): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const field of fields) {
    const value = out[field];
    if (typeof value === 'string') out[field] = mapped(value);
  }
  return out;
}

/** An IDSync API request as the server ran it, with the MPIDs it names mapped (WI-5). */
function apiProgram(
  request: ApiRequest,
  mapped: (mpid: string | null) => string | null,
  options: ResolveOptions,
): () => Program<unknown> {
  switch (request.kind) {
    case 'identify':
    case 'login':
    case 'logout': {
      const kind = request.kind;
      const body = withMapped(request.body, ['previous_mpid'], mapped);
      return () => identityProgram(kind, body, options);
    }
    case 'modify': {
      const target = mapped(request.mpid);
      return () => modifyProgram(target, request.body, options);
    }
    case 'alias': {
      const body = request.body as Record<string, unknown> | null;
      const data = withMapped(body?.['data'], ['source_mpid', 'destination_mpid'], mapped);
      const sent = typeof body === 'object' && body !== null ? { ...body, data } : body;
      return () => aliasProgram(sent, options);
    }
  }
}

/** One device request, translated and checked the way `DeviceStore.replay` does it. */
function replayDevice(
  store: MemoryIdentityStore,
  entry: DeviceRequestEntry,
  device: DeviceState,
  mapped: (mpid: string | null) => string | null,
  options: ResolveOptions,
): Outcome {
  const sync = entry.doc.data.sync;
  const translate = (mpid: string | null, meaning: 'profile' | 'current'): string | null => {
    if (mpid === null) return null;
    if (meaning === 'current') {
      const last = device.lastIdentity;
      if (last !== undefined && last.provisional === mpid && last.answer !== null) return last.answer;
    }
    const first = device.firstAnswers.get(mpid);
    return device.firstAnswers.has(mpid) ? (first ?? mpid) : mapped(mpid);
  };
  const body = sync.body;
  const named: (string | null)[] = [];
  let program: () => Program<unknown>;
  switch (sync.kind) {
    case 'identify':
    case 'login':
    case 'logout': {
      const previous = typeof body['previous_mpid'] === 'string' ? body['previous_mpid'] : null;
      const translated = translate(previous, 'current');
      const sent = translated === null ? body : { ...body, previous_mpid: translated };
      const kind = sync.kind;
      program = () => identityProgram(kind, sent, options);
      break;
    }
    case 'modify': {
      const target = translate(sync.modifyMpid, 'current');
      named.push(target);
      program = () => modifyProgram(target, body, options);
      break;
    }
    case 'alias': {
      const data = (body['data'] ?? {}) as Record<string, unknown>;
      const source = translate(
        typeof data['source_mpid'] === 'string' ? data['source_mpid'] : null,
        'profile',
      );
      const destination = translate(
        typeof data['destination_mpid'] === 'string' ? data['destination_mpid'] : null,
        'profile',
      );
      named.push(source, destination);
      const translated = {
        ...data,
        ...(source === null ? {} : { source_mpid: source }),
        ...(destination === null ? {} : { destination_mpid: destination }),
      };
      program = () => aliasProgram({ ...body, data: translated }, options);
      break;
    }
  }
  if (named.some((mpid) => mpid !== null && !device.view.has(mpid))) {
    return {
      ok: false,
      error: {
        error: apiError(
          'FORBIDDEN',
          `this device may ${sync.kind} only profiles its own requests resolved to`,
        ),
        trace: null,
        requestId: entry.requestId,
      },
    };
  }
  return runInTransactionSync(store, program) as Outcome;
}

function answerOf(outcome: Outcome): WhatIfAnswer {
  return outcome.ok
    ? { mpid: outcome.value.trace.result.mpid, created: outcome.value.trace.result.created, error: null }
    : { mpid: null, created: false, error: outcome.error.error.code };
}

function sameAnswer(a: WhatIfAnswer, b: WhatIfAnswer): boolean {
  return a.mpid === b.mpid && a.created === b.created && a.error === b.error;
}

function difference(
  entry: LoggedRequest,
  position: number,
  now: WhatIfAnswer,
  outcome: Outcome,
): WhatIfDifference {
  const trace = outcome.ok ? outcome.value.trace : outcome.error.trace;
  const recorded = entry.recordedTrace();
  const words = trace === null ? null : explainInWords(trace);
  return {
    position,
    at: entry.at,
    source: entry.source,
    deviceId: entry.source === 'device' ? entry.deviceId : null,
    requestId: entry.requestId,
    kind: entry.kind,
    old: entry.recorded,
    new: now,
    why: {
      old: recorded === null ? null : explainInWords(recorded).headline,
      new: words?.headline ?? (outcome.ok ? null : outcome.error.error.message),
      steps: words === null ? [] : [...words.steps],
    },
    trace,
  };
}
