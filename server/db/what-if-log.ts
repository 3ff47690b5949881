/**
 * The workspace's request log as a what-if replay reads it (SPEC WI-3): the IDSync API requests
 * and device requests the server accepted, in the order it committed them (`requests.seq`), with
 * the device requests that failed (they commit nothing, so they hold no `requests` row) placed
 * right after the same device's previous request. Read only.
 *
 * An IDSync identify/login/logout is rebuilt from what is stored: its trace lists every identity
 * as sent (`raw`, else the normalised `value`) and its previous MPID. The bodies of IDSync API
 * modify and alias requests are not stored (only a fingerprint), so those entries carry no body.
 */
import type { Kysely } from 'kysely';
import type { Environment } from '../../shared/identity/scope-config.ts';
import type { ServerResult, SyncRequestDoc } from '../../shared/protocol/sync.ts';
import type { WhatIfAnswer } from '../../shared/protocol/what-if.ts';
import type { IdentityKind } from '../../shared/resolver/identify.ts';
import type { ExplainTrace } from '../../shared/resolver/trace.ts';
import type { Database } from './schema.ts';

interface LoggedBase {
  readonly at: number;
  readonly requestId: string;
  readonly kind: string;
  readonly environment: Environment;
  readonly recorded: WhatIfAnswer;
  /**
   * The recorded trace, parsed on demand: only listed differences need it, and holding 100,000
   * parsed traces for the whole replay costs more in garbage collection than the replay itself.
   */
  readonly recordedTrace: () => ExplainTrace | null;
}

export type LoggedRequest =
  | (LoggedBase & {
      readonly source: 'api';
      /** The identify/login/logout as the client sent it; null for a modify or alias (not stored). */
      readonly identity: { readonly kind: IdentityKind; readonly body: Record<string, unknown> } | null;
    })
  | DeviceRequestEntry;

export type DeviceRequestEntry = LoggedBase & {
  readonly source: 'device';
  readonly deviceId: string;
  readonly doc: SyncRequestDoc;
};

function answerOf(trace: ExplainTrace | null, mpid: string | null, error: string | null): WhatIfAnswer {
  return { mpid, created: trace?.result.created === true, error };
}

/** The identify/login/logout body the trace records, as the client sent it. */
function identityBody(requestId: string, environment: string, trace: ExplainTrace): Record<string, unknown> {
  const known: Record<string, string> = {};
  for (const identity of trace.identities) known[identity.identityType] = identity.raw ?? identity.value;
  return {
    environment,
    request_id: requestId,
    known_identities: known,
    ...(trace.previousMpid === null ? {} : { previous_mpid: trace.previousMpid.mpid }),
  };
}

/** A device request as the log query reads it. */
interface DeviceRow {
  readonly at: number;
  readonly device_id: string;
  readonly seq: number;
  readonly request_id: string;
  readonly kind: string;
  readonly doc: string;
  readonly result: string;
}

function deviceEntry(row: DeviceRow): DeviceRequestEntry {
  const doc = JSON.parse(row.doc) as SyncRequestDoc;
  const result = JSON.parse(row.result) as ServerResult;
  const trace = (result.trace as ExplainTrace | null) ?? null;
  return {
    source: 'device',
    at: row.at,
    deviceId: row.device_id,
    requestId: row.request_id,
    kind: row.kind,
    environment: doc.data.sync.environment,
    doc,
    recorded: answerOf(trace, result.mpid, result.error?.code ?? null),
    recordedTrace: () => ((JSON.parse(row.result) as ServerResult).trace as ExplainTrace | null) ?? null,
  };
}

/** The log up to `to` (all of it when undefined), in accepted order. */
export async function readWhatIfLog(
  db: Kysely<Database>,
  workspaceId: string,
  to: number | undefined,
): Promise<LoggedRequest[]> {
  let committed = db
    .selectFrom('requests')
    .select(['at', 'request_id', 'kind', 'environment', 'trace'])
    .where('scope_id', '=', workspaceId)
    .orderBy('seq');
  if (to !== undefined) committed = committed.where('at', '<=', to);
  const fromDevices = await db
    .selectFrom('device_requests as r')
    .innerJoin('devices as d', 'd.id', 'r.device_id')
    .select([
      'r.received_at as at',
      'r.device_id',
      'r.seq',
      'r.request_id',
      'r.kind',
      'r.doc',
      'r.result',
      'r.status',
    ])
    .where('d.workspace_id', '=', workspaceId)
    .orderBy('r.device_id')
    .orderBy('r.seq')
    .execute();
  /** Applied device requests by request id (their `requests` row says when they committed). */
  const applied = new Map<string, DeviceRow>();
  const failed: DeviceRow[] = [];
  for (const row of fromDevices) {
    if (row.status === 'failed') {
      if (to === undefined || row.at <= to) failed.push(row);
    } else applied.set(row.request_id, row);
  }

  const log: LoggedRequest[] = [];
  /** Device id → seq → position in `log`, to place failed requests after their predecessor. */
  const positions = new Map<string, Map<number, number>>();
  for (const row of await committed.execute()) {
    const device = applied.get(row.request_id);
    if (device !== undefined) {
      const entry = deviceEntry({ ...device, at: row.at });
      let seqs = positions.get(device.device_id);
      if (seqs === undefined) positions.set(device.device_id, (seqs = new Map<number, number>()));
      seqs.set(entry.doc.data.sync.seq, log.length);
      log.push(entry);
      continue;
    }
    const trace = JSON.parse(row.trace) as ExplainTrace;
    const kind = row.kind;
    log.push({
      source: 'api',
      at: row.at,
      requestId: row.request_id,
      kind,
      environment: row.environment as Environment,
      identity:
        kind === 'identify' || kind === 'login' || kind === 'logout'
          ? { kind, body: identityBody(row.request_id, row.environment, trace) }
          : null,
      recorded: answerOf(trace, trace.result.mpid, null),
      recordedTrace: () => JSON.parse(row.trace) as ExplainTrace,
    });
  }
  return placeFailed(log, failed, positions);
}

/** Small enough that a device's chain of failed requests stays between two committed entries. */
const STEP = 1 / 1024;

/** Inserts each failed device request after the same device's previous request (else by time). */
function placeFailed(
  log: LoggedRequest[],
  failed: readonly DeviceRow[],
  positions: Map<string, Map<number, number>>,
): LoggedRequest[] {
  if (failed.length === 0) return log;
  /** Fractional sort keys: committed entries sit at whole positions, failed ones between them. */
  const keyed = log.map((entry, index) => ({ entry, key: index }));
  for (const row of failed) {
    const entry = deviceEntry(row);
    const seqs = positions.get(row.device_id) ?? new Map<number, number>();
    const previous = seqs.get(Number(row.seq) - 1);
    const afterTime = log.findIndex((e) => e.at > row.at);
    const key = previous !== undefined ? previous + STEP : (afterTime < 0 ? log.length : afterTime) - 0.5;
    seqs.set(Number(row.seq), key);
    positions.set(row.device_id, seqs);
    keyed.push({ entry, key });
  }
  return keyed.sort((a, b) => a.key - b.key).map((k) => k.entry);
}
