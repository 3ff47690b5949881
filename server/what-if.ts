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
import { processNextAliasProgram } from '../shared/resolver/alias.ts';
import { resolveOptions, type ResolveOptions } from '../shared/resolver/context.ts';
import { explainInWords } from '../shared/resolver/explain-in-words.ts';
import { failure, type ResolutionFailure } from '../shared/resolver/outcome.ts';
import { programFor, type ProgramRequest } from '../shared/resolver/program-for.ts';
import { runInTransactionSync } from '../shared/resolver/store-port.ts';
import type { ExplainTrace } from '../shared/resolver/trace.ts';
import type { RandomSource } from '../shared/util/random.ts';
import type { Result } from '../shared/util/result.ts';
import type { ApiRequest, DeviceRequestEntry, LoggedRequest } from './db/what-if-log.ts';
import { translateDeviceRequestNow } from './device-translation.ts';

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
  const mapped = (mpid: string) => world.get(mpid) ?? mpid;
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
    const options = (preferred: string | null): ResolveOptions =>
      resolveOptions({
        config,
        random: run.random,
        now: entry.at,
        actor:
          entry.source === 'device' ? { kind: 'device', id: entry.deviceId } : { kind: 'app', id: 'what-if' },
        preferredMpid: preferred,
      });
    drainAliases(store, options(null));
    const replayable = replayableOf(entry);
    if (replayable === null) {
      skipped.body_deleted = (skipped.body_deleted ?? 0) + 1;
      continue;
    }
    let outcome: Outcome;
    if (replayable.source === 'api') {
      const api = replayable.request;
      const preferred = entry.recorded.created ? entry.recorded.mpid : null;
      outcome = runInTransactionSync(store, () =>
        programFor(api.kind, apiProgramRequest(api, mapped), options(preferred)),
      );
    } else {
      const sync = replayable.entry.pushed;
      const preferred =
        entry.recorded.created && entry.recorded.mpid !== null
          ? entry.recorded.mpid
          : sync.createdProvisional
            ? sync.provisionalMpid
            : null;
      const deviceId = replayable.entry.deviceId;
      let device = devices.get(deviceId);
      if (device === undefined)
        devices.set(deviceId, (device = { firstAnswers: new Map(), view: new Set() }));
      outcome = replayDevice(store, replayable.entry, device, mapped, options(preferred));
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

/** What a logged request replays, or `null` when its body was deleted with a person (AD-6). */
function replayableOf(
  entry: LoggedRequest,
): { source: 'api'; request: ApiRequest } | { source: 'device'; entry: DeviceRequestEntry } | null {
  if (entry.source === 'api')
    return entry.request === null ? null : { source: 'api', request: entry.request };
  return entry.pushed === null ? null : { source: 'device', entry: { ...entry, pushed: entry.pushed } };
}

/**
 * An IDSync API request as the server ran it, the MPIDs it names mapped from the recorded world to
 * the replayed one by the device replay's own translation (SPEC SS-4, WI-5).
 */
function apiProgramRequest(request: ApiRequest, mapped: (mpid: string) => string): ProgramRequest {
  const modifyMpid = request.kind === 'modify' ? request.mpid : null;
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return modifyMpid === null ? { body } : { body, target: mapped(modifyMpid) };
  return translateDeviceRequestNow(
    { kind: request.kind, body: body as Record<string, unknown>, modifyMpid },
    mapped,
  ).request;
}

/** One device request, translated and checked as `DeviceStore.replay` does it (SPEC SS-4). */
function replayDevice(
  store: MemoryIdentityStore,
  entry: DeviceRequestEntry,
  device: DeviceState,
  mapped: (mpid: string) => string,
  options: ResolveOptions,
): Outcome {
  const call = translateDeviceRequestNow(entry.pushed, (mpid, meaning) => {
    const last = device.lastIdentity;
    if (meaning === 'current' && last?.provisional === mpid && last.answer !== null) return last.answer;
    const first = device.firstAnswers.get(mpid);
    return device.firstAnswers.has(mpid) ? (first ?? mpid) : mapped(mpid);
  });
  if (call.named.some((mpid) => !device.view.has(mpid))) {
    return failure(
      apiError('FORBIDDEN', `this device may ${call.kind} only profiles its own requests resolved to`),
      entry.requestId,
    );
  }
  return runInTransactionSync(store, () => programFor(call.kind, call.request, options));
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
