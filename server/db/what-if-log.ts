/**
 * The workspace's request log as a what-if replay reads it (SPEC WI-3, LS-6): the IDSync API
 * requests and device requests the server accepted, in the order their resolutions finished
 * (`request_log.seq`; a failed device request included, right where it was answered). Read only.
 *
 * An IDSync API request carries its body as sent (identify/login/logout, modify with its target
 * MPID, alias); a device request the document the device pushed (from `device_requests`). A body
 * scrubbed by a data-subject deletion (AD-6) leaves an entry without one, which the replay skips.
 */
import type { Kysely } from 'kysely';
import type { Environment } from '../../shared/identity/scope-config.ts';
import type { PushedRequest, ServerResult, SyncRequestDoc } from '../../shared/protocol/sync.ts';
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
   * The recorded trace, parsed on demand (only listed differences need it); null when none was
   * kept (the request changed nothing, LS-1).
   */
  readonly recordedTrace: () => ExplainTrace | null;
}

/** An IDSync API request as the client sent it. */
export type ApiRequest =
  | { readonly kind: IdentityKind; readonly body: unknown }
  | { readonly kind: 'modify'; readonly mpid: string; readonly body: unknown }
  | { readonly kind: 'alias'; readonly body: unknown };

export type LoggedRequest =
  | (LoggedBase & {
      readonly source: 'api';
      /** Null when the body was deleted with a person. */
      readonly request: ApiRequest | null;
    })
  | DeviceRequestEntry
  | (LoggedBase & { readonly source: 'device'; readonly deviceId: string; readonly pushed: null });

export type DeviceRequestEntry = LoggedBase & {
  readonly source: 'device';
  readonly deviceId: string;
  /** The request as the device pushed it, whether through v1 (its row) or v2 (the wire request). */
  readonly pushed: PushedRequest;
};

/**
 * The request a `device_requests.doc` holds: v1 stored the device's row, v2 the wire request
 * (SPEC S2-8). Either way the request's own fields.
 */
function storedPushedRequest(doc: string): PushedRequest {
  const stored = JSON.parse(doc) as SyncRequestDoc | PushedRequest;
  return 'data' in stored ? stored.data.sync : stored;
}

/** The body column of an API entry, as `RequestLog` rows carry it. */
function apiRequestOf(kind: string, body: string | null): ApiRequest | null {
  if (body === null) return null;
  const parsed = JSON.parse(body) as unknown;
  switch (kind) {
    case 'identify':
    case 'login':
    case 'logout':
    case 'alias':
      return { kind, body: parsed };
    case 'modify': {
      const { mpid, body: inner } = parsed as { mpid: string; body: unknown };
      return { kind, mpid, body: inner };
    }
    default:
      return null;
  }
}

function parseTrace(text: string | null): ExplainTrace | null {
  return text === null ? null : (JSON.parse(text) as ExplainTrace | null);
}

/** The log up to `to` (all of it when undefined), in accepted order. */
export async function readWhatIfLog(
  db: Kysely<Database>,
  workspaceId: string,
  to: number | undefined,
): Promise<LoggedRequest[]> {
  let query = db
    .selectFrom('request_log as l')
    .leftJoin('device_requests as d', (join) =>
      join.onRef('d.device_id', '=', 'l.device_id').onRef('d.seq', '=', 'l.device_seq'),
    )
    // Device requests too: the device log leaves out a trace the identity store keeps (DR-8).
    .leftJoin('requests as r', (join) =>
      join.onRef('r.scope_id', '=', 'l.scope_id').onRef('r.request_id', '=', 'l.request_id'),
    )
    .select([
      'l.at',
      'l.source',
      'l.device_id',
      'l.request_id',
      'l.kind',
      'l.environment',
      'l.body',
      'l.mpid',
      'l.created',
      'l.error',
      'd.doc',
      'd.result',
      'r.trace',
    ])
    .where('l.scope_id', '=', workspaceId)
    .orderBy('l.seq');
  if (to !== undefined) query = query.where('l.at', '<=', to);
  const log: LoggedRequest[] = [];
  for (const row of await query.execute()) {
    const base = {
      at: Number(row.at),
      requestId: row.request_id,
      kind: row.kind,
      environment: row.environment as Environment,
      recorded: { mpid: row.mpid, created: Number(row.created) === 1, error: row.error },
    };
    if (row.source === 'api') {
      const trace = row.trace;
      log.push({
        ...base,
        source: 'api',
        request: apiRequestOf(row.kind, row.body),
        recordedTrace: () => parseTrace(trace),
      });
      continue;
    }
    const result = row.result;
    const kept = row.trace;
    log.push({
      ...base,
      source: 'device',
      deviceId: row.device_id ?? '',
      pushed: row.doc === null ? null : storedPushedRequest(row.doc),
      recordedTrace: () => {
        const own =
          result === null ? null : ((JSON.parse(result) as ServerResult).trace as ExplainTrace | null);
        return own ?? parseTrace(kept);
      },
    });
  }
  return log;
}
