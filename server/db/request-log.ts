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
import { CompiledQuery, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { PushedRequest, ServerResult } from '../../shared/protocol/sync.ts';
import type { RequestKind } from '../../shared/resolver/records.ts';
import type { ExplainTrace } from '../../shared/resolver/trace.ts';
import { serial } from '../../shared/util/serial.ts';
import type { DatabaseHandle } from './connect.ts';
import type { Database, RequestLogTable } from './schema.ts';

export type RequestLogRow = Insertable<RequestLogTable>;

export interface RequestLogOptions {
  readonly flushMs: number;
  readonly flushRows: number;
  /** Rows kept per workspace; older ones are deleted as new ones are written. */
  readonly retainRows: number;
}

/** More than this waiting (the database refusing writes for long) and the oldest are dropped. */
const MAX_BUFFERED = 100_000;
/** The columns an INSERT binds, in parameter order (`seq` is the database's). */
const COLUMNS = [
  'scope_id',
  'at',
  'source',
  'device_id',
  'device_seq',
  'request_id',
  'kind',
  'environment',
  'body',
  'mpid',
  'created',
  'branch',
  'error',
] as const satisfies readonly (keyof RequestLogRow)[];

/**
 * The most rows one INSERT carries (SQLite allows 32,766 parameters; a row has 13). A batch is
 * written in chunks of 256, 128, … 1 rows, so nine statement texts serve every batch size: each
 * is compiled once and stays prepared, where a text per batch size would be compiled and
 * prepared again for most flushes (SPEC HP-3).
 */
const MAX_ROWS_PER_INSERT = 256;

/** [start, size] of each INSERT for `count` rows: the largest power-of-two chunks first. */
function insertChunks(count: number): [number, number][] {
  const chunks: [number, number][] = [];
  let at = 0;
  for (let size = MAX_ROWS_PER_INSERT; size >= 1; size /= 2) {
    while (count - at >= size) {
      chunks.push([at, size]);
      at += size;
    }
  }
  return chunks;
}

/** How many of the rows belong to each workspace. */
function countByScope(rows: readonly RequestLogRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.scope_id, (counts.get(row.scope_id) ?? 0) + 1);
  return counts;
}

/** The INSERT text for `n` rows of `COLUMNS`, compiled for the handle's dialect. */
function insertText(db: Kysely<Database>, n: number): string {
  const row = Object.fromEntries(COLUMNS.map((c) => [c, ''])) as unknown as RequestLogRow;
  return db
    .insertInto('request_log')
    .values(Array.from({ length: n }, () => row))
    .compile().sql;
}

export class RequestLog {
  private buffer: RequestLogRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly queue = serial();
  private readonly insertTexts = new Map<number, string>();
  /**
   * Per workspace found full (it held `retainRows` rows after a prune): the `seq` of its oldest
   * kept row. Only pruning deletes log rows, so from then on the workspace holds at least
   * `retainRows` rows from there, and removing as many of its oldest rows as a flush adds keeps it
   * at that size (several servers on one database each remove what they add).
   */
  private readonly cutoffs = new Map<string, number>();
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
    const cutoffs = new Map<string, number | undefined>();
    try {
      await this.handle.db.transaction().execute(async (trx) => {
        for (const [start, size] of insertChunks(rows.length)) {
          const parameters: unknown[] = [];
          for (const row of rows.slice(start, start + size))
            for (const column of COLUMNS) parameters.push(row[column] ?? null);
          await trx.executeQuery(CompiledQuery.raw(this.insertText(size), parameters));
        }
        for (const [scope, added] of countByScope(rows)) {
          cutoffs.set(scope, await this.prune(trx, scope, added));
        }
      });
      for (const [scope, cutoff] of cutoffs) {
        if (cutoff === undefined) this.cutoffs.delete(scope);
        else this.cutoffs.set(scope, cutoff);
      }
    } catch (error) {
      this.buffer = [...rows, ...this.buffer].slice(-MAX_BUFFERED);
      this.onError(error);
    }
  }

  /**
   * Keeps the newest `retainRows` rows of a workspace that just got `added` rows (LS-7); returns
   * the oldest kept row's `seq` when the workspace is full. A full workspace reads and deletes
   * `added` rows; one not known to be full counts back from its newest row (HP-5).
   */
  private async prune(trx: Transaction<Database>, scope: string, added: number): Promise<number | undefined> {
    const known = this.cutoffs.get(scope);
    const walked =
      known === undefined
        ? undefined
        : await trx
            .selectFrom('request_log')
            .select('seq')
            .where('scope_id', '=', scope)
            .where('seq', '>=', known)
            .orderBy('seq')
            .offset(added)
            .limit(1)
            .executeTakeFirst();
    const oldestKept =
      walked ??
      (await trx
        .selectFrom('request_log')
        .select('seq')
        .where('scope_id', '=', scope)
        .orderBy('seq', 'desc')
        .offset(this.options.retainRows - 1)
        .limit(1)
        .executeTakeFirst());
    if (oldestKept === undefined) return undefined;
    await trx
      .deleteFrom('request_log')
      .where('scope_id', '=', scope)
      .where('seq', '<', oldestKept.seq)
      .execute();
    return oldestKept.seq;
  }

  private insertText(n: number): string {
    let text = this.insertTexts.get(n);
    if (text === undefined) {
      text = insertText(this.handle.db, n);
      this.insertTexts.set(n, text);
    }
    return text;
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
  /**
   * The JSON text `body` was parsed from, when known: stored as it is instead of serialising the
   * parsed body again (HP-11); replay parses either to the same value.
   */
  readonly bodyText?: string | undefined;
  readonly modifyMpid?: string;
  readonly trace: ExplainTrace;
}

export function apiLogRow(logged: ApiLogged): RequestLogRow {
  const environment = (logged.body as { environment?: unknown }).environment;
  const body =
    logged.kind === 'modify'
      ? JSON.stringify({ mpid: logged.modifyMpid, body: logged.body })
      : (logged.bodyText ?? JSON.stringify(logged.body));
  return {
    scope_id: logged.workspaceId,
    at: logged.at,
    source: 'api',
    device_id: null,
    device_seq: null,
    request_id: logged.requestId,
    kind: logged.kind,
    environment: typeof environment === 'string' ? environment : 'production',
    body,
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
