/**
 * The compact request log (SPEC LS-6, LS-7): every request the server accepted, in the order its
 * resolution finished, for what-if replay (WI-3) and the dashboard's resolution counts. It holds
 * what a replay needs and nothing else: an IDSync API request's body as sent (no trace, no
 * response), or for a device request a pointer to its row in `device_requests` (which keeps the
 * pushed document), plus the answer each got.
 *
 * It is written off the request path: `append` only buffers; the buffer is written in one
 * transaction every `flushMs` or as soon as it holds `flushRows` rows, and each write keeps the
 * newest `retainRows` rows of each workspace it touched. Readers call `flush()` first. Rows of a
 * failed write go back to the buffer (at most `MAX_BUFFERED` rows are held) and are tried again.
 */
import type { Insertable } from 'kysely';
import type { PushedRequest, ServerResult } from '../../shared/protocol/sync.ts';
import type { RequestKind } from '../../shared/resolver/records.ts';
import type { ExplainTrace } from '../../shared/resolver/trace.ts';
import { serial } from '../../shared/util/serial.ts';
import type { DatabaseHandle } from './connect.ts';
import type { RequestLogTable } from './schema.ts';

export type RequestLogRow = Insertable<RequestLogTable>;

export interface RequestLogOptions {
  readonly flushMs: number;
  readonly flushRows: number;
  /** Rows kept per workspace; older ones are deleted as new ones are written. */
  readonly retainRows: number;
}

/** More than this waiting (the database refusing writes for long) and the oldest are dropped. */
const MAX_BUFFERED = 100_000;
/** Rows per INSERT statement (SQLite allows 32,766 parameters; a row has 14). */
const ROWS_PER_INSERT = 500;

export class RequestLog {
  private buffer: RequestLogRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly queue = serial();
  /** Rows dropped because the buffer overflowed while writes failed. */
  dropped = 0;

  constructor(
    private readonly handle: DatabaseHandle,
    private readonly options: RequestLogOptions,
    private readonly onError: (error: unknown) => void,
  ) {}

  append(row: RequestLogRow): void {
    this.buffer.push(row);
    if (this.buffer.length > MAX_BUFFERED) {
      this.buffer.shift();
      this.dropped++;
    }
    if (this.buffer.length >= this.options.flushRows) void this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
      this.timer.unref();
    }
  }

  /** Writes everything appended so far; resolves once it is in the database (or the write failed). */
  flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    return this.queue(() => this.write());
  }

  private async write(): Promise<void> {
    const rows = this.buffer;
    if (rows.length === 0) return;
    this.buffer = [];
    try {
      await this.handle.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
          await trx
            .insertInto('request_log')
            .values(rows.slice(i, i + ROWS_PER_INSERT))
            .execute();
        }
        for (const scope of new Set(rows.map((r) => r.scope_id))) {
          const oldestKept = await trx
            .selectFrom('request_log')
            .select('seq')
            .where('scope_id', '=', scope)
            .orderBy('seq', 'desc')
            .offset(this.options.retainRows - 1)
            .limit(1)
            .executeTakeFirst();
          if (oldestKept !== undefined)
            await trx
              .deleteFrom('request_log')
              .where('scope_id', '=', scope)
              .where('seq', '<', oldestKept.seq)
              .execute();
        }
      });
    } catch (error) {
      this.buffer = [...rows, ...this.buffer].slice(-MAX_BUFFERED);
      this.onError(error);
    }
  }

  /** Stops the timer and writes what is buffered. */
  async close(): Promise<void> {
    await this.flush();
  }
}

/** What the log records of an IDSync API request the server answered (not a replay, not read-only). */
export interface ApiLogged {
  readonly workspaceId: string;
  readonly at: number;
  readonly requestId: string;
  readonly kind: RequestKind;
  /** The body as sent; a modify's target MPID beside it. */
  readonly body: unknown;
  readonly modifyMpid?: string;
  readonly trace: ExplainTrace;
}

export function apiLogRow(logged: ApiLogged): RequestLogRow {
  const environment = (logged.body as { environment?: unknown }).environment;
  const body = logged.kind === 'modify' ? { mpid: logged.modifyMpid, body: logged.body } : logged.body;
  return {
    scope_id: logged.workspaceId,
    at: logged.at,
    source: 'api',
    device_id: null,
    device_seq: null,
    request_id: logged.requestId,
    kind: logged.kind,
    environment: typeof environment === 'string' ? environment : 'production',
    body: JSON.stringify(body),
    mpid: logged.trace.result.mpid,
    created: logged.trace.result.created ? 1 : 0,
    branch: logged.trace.branch,
    error: null,
  };
}

/** What the log records of a device request the server answered: a pointer to its row, and the answer. */
export function deviceLogRow(workspaceId: string, sync: PushedRequest, server: ServerResult): RequestLogRow {
  const trace = server.trace as ExplainTrace | null;
  return {
    scope_id: workspaceId,
    at: server.processedAt ?? sync.createdAt,
    source: 'device',
    device_id: sync.deviceId,
    device_seq: sync.seq,
    request_id: sync.requestId,
    kind: sync.kind,
    environment: sync.environment,
    body: null,
    mpid: server.mpid,
    created: trace?.result.created === true ? 1 : 0,
    branch: trace?.branch ?? null,
    error: server.error?.code ?? null,
  };
}
