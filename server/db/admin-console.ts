/**
 * What the admin console's dashboard and device pages read (SPEC AA-1..AA-6): resolutions by
 * outcome over time, the anonymous-to-known conversion rate, sync lag per device and one device's
 * request record. Every figure is one aggregate query over indexed rows of one workspace and one
 * bounded window (migration 4 adds the indexes); nothing here writes.
 */
import { sql, type RawBuilder } from 'kysely';
import {
  MAX_LAG_DEVICES,
  RESOLUTION_KINDS,
  RESOLUTION_OUTCOMES,
  type Conversion,
  type DeviceLag,
  type ResolutionCount,
  type Stats,
} from '../../shared/protocol/admin-stats.ts';
import type { DeviceDetail, FailedDeviceRequest } from '../../shared/protocol/admin-devices.ts';
import type { ServerResult } from '../../shared/protocol/sync.ts';
import type { DatabaseHandle } from './connect.ts';

/** A window of one workspace: `from` inclusive, `to` exclusive, counted in buckets of `bucketMs`. */
export interface StatsWindow {
  readonly workspace: string;
  readonly from: number;
  readonly to: number;
  readonly bucketMs: number;
  /** The workspace's login identity types: holding one makes a profile known. */
  readonly loginTypes: readonly string[];
  readonly now: number;
}

type Kind = ResolutionCount['kind'];
type Outcome = ResolutionCount['outcome'];

/** The outcome of a stored (successful) resolution, from its trace's branch (AA-2). */
function outcomeOf(branch: string | null, created: boolean): Outcome {
  if (created) return 'created';
  return branch === 'convert_anonymous' ? 'converted' : 'matched';
}

function ratio(converted: number, startedAnonymous: number): number | null {
  return startedAnonymous === 0 ? null : converted / startedAnonymous;
}

export class AdminConsoleStore {
  constructor(private readonly handle: DatabaseHandle) {}

  private bucketOf(column: string, bucketMs: number): RawBuilder<number> {
    return sql<number>`(${sql.ref(column)} / ${sql.lit(bucketMs)}) * ${sql.lit(bucketMs)}`;
  }

  async stats(window: StatsWindow, bucket: Stats['bucket']): Promise<Omit<Stats, 'workspace'>> {
    const [resolutions, conversion, devices] = await Promise.all([
      this.resolutions(window),
      this.conversion(window),
      this.lag(window),
    ]);
    return {
      from: window.from,
      to: window.to,
      bucket,
      bucketMs: window.bucketMs,
      resolutions,
      conversion,
      devices,
    };
  }

  /**
   * Resolutions by outcome, from the request log (LS-6): it holds every answered request, also
   * those that changed nothing (no stored request) and failed device requests (`error`).
   */
  private async resolutions(w: StatsWindow): Promise<ResolutionCount[]> {
    const { db } = this.handle;
    const logged = await db
      .selectFrom('request_log')
      .select([
        this.bucketOf('at', w.bucketMs).as('bucket_start'),
        'kind',
        'branch',
        'created',
        sql<number>`count(error)`.as('failed'),
        sql<number>`count(*)`.as('count'),
      ])
      .where('scope_id', '=', w.workspace)
      .where('at', '>=', w.from)
      .where('at', '<', w.to)
      .where('kind', 'in', RESOLUTION_KINDS)
      .groupBy([sql`1`, 'kind', 'branch', 'created'])
      .execute();
    const counts = new Map<string, ResolutionCount>();
    const add = (bucketStart: number, kind: Kind, outcome: Outcome, count: number) => {
      const key = `${bucketStart}\u0001${kind}\u0001${outcome}`;
      const previous = counts.get(key)?.count ?? 0;
      counts.set(key, { bucketStart, kind, outcome, count: previous + Number(count) });
    };
    for (const row of logged) {
      const bucket = Number(row.bucket_start);
      const failed = Number(row.failed);
      const answered = Number(row.count) - failed;
      if (answered > 0)
        add(bucket, row.kind as Kind, outcomeOf(row.branch, Number(row.created) === 1), answered);
      if (failed > 0) add(bucket, row.kind as Kind, 'failed', failed);
    }
    return [...counts.values()].sort(
      (a, b) =>
        a.bucketStart - b.bucketStart ||
        RESOLUTION_KINDS.indexOf(a.kind) - RESOLUTION_KINDS.indexOf(b.kind) ||
        RESOLUTION_OUTCOMES.indexOf(a.outcome) - RESOLUTION_OUTCOMES.indexOf(b.outcome),
    );
  }

  /**
   * AA-3: the cohort is the workspace's profiles whose `profile_created` history entry falls in
   * the window and whose creating request added no login identity; a cohort profile converted if
   * a later request added a login identity to it before the window's end.
   */
  private async conversion(w: StatsWindow): Promise<Stats['conversion']> {
    if (w.loginTypes.length === 0) return { startedAnonymous: 0, converted: 0, rate: null, byBucket: [] };
    const { db } = this.handle;
    const sameRequest = sql`(b.request_id = h.request_id or (b.request_id is null and h.request_id is null and b.at = h.at))`;
    const rows = await db
      .selectFrom('history as h')
      .select([
        this.bucketOf('h.at', w.bucketMs).as('bucket_start'),
        sql<number>`count(*)`.as('started'),
        sql<number>`sum(case when exists (
          select 1 from history c
          where c.mpid = h.mpid and c.kind = 'identity_added' and c.seq > h.seq and c.at < ${w.to}
            and c.identity_type in (${sql.join(w.loginTypes)})
            and (c.request_id is null or h.request_id is null or c.request_id <> h.request_id)
        ) then 1 else 0 end)`.as('converted'),
      ])
      .where('h.scope_id', '=', w.workspace)
      .where('h.kind', '=', 'profile_created')
      .where('h.at', '>=', w.from)
      .where('h.at', '<', w.to)
      .where(
        sql<boolean>`not exists (
          select 1 from history b
          where b.mpid = h.mpid and b.kind = 'identity_added'
            and b.identity_type in (${sql.join(w.loginTypes)}) and ${sameRequest}
        )`,
      )
      .groupBy(sql`1`)
      .orderBy(sql`1`)
      .execute();
    const byBucket = rows.map((r) => {
      const started = Number(r.started);
      const converted = Number(r.converted);
      return {
        bucketStart: Number(r.bucket_start),
        startedAnonymous: started,
        converted,
        rate: ratio(converted, started),
      };
    });
    const total: Conversion = { startedAnonymous: 0, converted: 0, rate: null };
    for (const b of byBucket) {
      total.startedAnonymous += b.startedAnonymous;
      total.converted += b.converted;
    }
    return { ...total, rate: ratio(total.converted, total.startedAnonymous), byBucket };
  }

  /** AA-4: the workspace's devices, the longest unseen first. */
  private async lag(w: StatsWindow): Promise<Stats['devices']> {
    const { db } = this.handle;
    const total = await db
      .selectFrom('devices')
      .select(sql<number>`count(*)`.as('n'))
      .where('workspace_id', '=', w.workspace)
      .executeTakeFirstOrThrow();
    const rows = await db
      .selectFrom('devices as d')
      .select([
        'd.id',
        'd.name',
        'd.revoked_at',
        'd.last_seen_at',
        'd.next_seq',
        (eb) =>
          eb
            .selectFrom('device_requests as r')
            .select(sql<number | null>`max(r.received_at)`.as('m'))
            .whereRef('r.device_id', '=', 'd.id')
            .as('last_accepted_at'),
      ])
      .where('d.workspace_id', '=', w.workspace)
      .orderBy('d.last_seen_at')
      .orderBy('d.id')
      .limit(MAX_LAG_DEVICES)
      .execute();
    const lag: DeviceLag[] = rows.map((r) => ({
      id: r.id,
      name: r.name,
      revoked: r.revoked_at !== null,
      lastSeenAt: Number(r.last_seen_at),
      lastAcceptedAt: r.last_accepted_at === null ? null : Number(r.last_accepted_at),
      lagMs: w.now - Number(r.last_seen_at),
      nextSeq: Number(r.next_seq),
    }));
    return { total: Number(total.n), lag };
  }

  /** AA-5: one device of the workspace, or null when the workspace has no such device. */
  async device(workspace: string, id: string, failedLimit: number): Promise<DeviceDetail | null> {
    const { db } = this.handle;
    const device = await db
      .selectFrom('devices')
      .selectAll()
      .where('id', '=', id)
      .where('workspace_id', '=', workspace)
      .executeTakeFirst();
    if (device === undefined) return null;
    const counts = await db
      .selectFrom('device_requests')
      .select(['status', sql<number>`count(*)`.as('n')])
      .where('device_id', '=', id)
      .groupBy('status')
      .execute();
    const failedRows = await db
      .selectFrom('device_requests')
      .select(['seq', 'request_id', 'kind', 'received_at', 'result'])
      .where('device_id', '=', id)
      .where('status', '=', 'failed')
      .orderBy('seq', 'desc')
      .limit(failedLimit)
      .execute();
    const lastFailed: FailedDeviceRequest[] = failedRows.map((r) => {
      const error = (JSON.parse(r.result) as ServerResult).error;
      return {
        seq: Number(r.seq),
        requestId: r.request_id,
        kind: r.kind,
        receivedAt: Number(r.received_at),
        code: error?.code ?? 'UNKNOWN',
        message: error?.message ?? '',
      };
    });
    const count = (status: string) => Number(counts.find((c) => c.status === status)?.n ?? 0);
    return {
      id: device.id,
      workspace: device.workspace_id,
      name: device.name,
      inputKey: device.input_key,
      deviceApplicationStamp: device.das,
      registeredAt: Number(device.created_at),
      lastSeenAt: Number(device.last_seen_at),
      revokedAt: device.revoked_at === null ? null : Number(device.revoked_at),
      nextSeq: Number(device.next_seq),
      requests: { applied: count('applied'), failed: count('failed') },
      lastFailed,
    };
  }
}
