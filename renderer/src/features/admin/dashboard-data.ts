/**
 * The dashboard's chart data, shaped from one stats answer (SPEC AC-30..AC-33). Pure functions:
 * the charts draw what these return and the text alternatives read the same figures, so a chart
 * and its table can never disagree. Every bucket of the window is present (a quiet hour is a
 * zero bar, not a missing one), because the server lists non-zero counts only.
 */
import {
  type RESOLUTION_OUTCOMES,
  STATS_BUCKETS,
  type Stats,
  type StatsBucket,
} from '../../../../shared/protocol/admin-stats.ts';

export type Outcome = (typeof RESOLUTION_OUTCOMES)[number];

/** The stacking order of the bars, bottom first, and the legend's order. */
export const OUTCOME_ORDER: readonly Outcome[] = ['created', 'converted', 'matched', 'failed'];

export const OUTCOME_LABELS: Readonly<Record<Outcome, string>> = {
  created: 'Created',
  converted: 'Converted',
  matched: 'Matched',
  failed: 'Failed',
};

export type WindowChoice = 'day' | 'month';

export const WINDOW_LABELS: Readonly<Record<WindowChoice, string>> = {
  day: 'Last 24 hours',
  month: 'Last 30 days',
};

/** The stats window a choice asks for, ending at `now`. */
export function statsWindow(
  choice: WindowChoice,
  now: number,
): { from: number; to: number; bucket: StatsBucket } {
  return choice === 'day'
    ? { from: now - 24 * STATS_BUCKETS.hour, to: now, bucket: 'hour' }
    : { from: now - 30 * STATS_BUCKETS.day, to: now, bucket: 'day' };
}

/** The start of every bucket the window `[from, to)` touches, oldest first. */
export function bucketStarts(from: number, to: number, bucketMs: number): number[] {
  const starts: number[] = [];
  for (let start = Math.floor(from / bucketMs) * bucketMs; start < to; start += bucketMs) starts.push(start);
  return starts;
}

export interface OutcomeBucket {
  readonly bucketStart: number;
  readonly counts: Readonly<Record<Outcome, number>>;
  readonly total: number;
}

const zeroCounts = (): Record<Outcome, number> => ({ created: 0, converted: 0, matched: 0, failed: 0 });

/** Resolutions per bucket and outcome, all request kinds summed; every bucket of the window. */
export function outcomeBuckets(stats: Stats): OutcomeBucket[] {
  const byStart = new Map<number, Record<Outcome, number>>();
  for (const start of bucketStarts(stats.from, stats.to, stats.bucketMs)) byStart.set(start, zeroCounts());
  for (const row of stats.resolutions) {
    const counts = byStart.get(row.bucketStart) ?? zeroCounts();
    counts[row.outcome] += row.count;
    byStart.set(row.bucketStart, counts);
  }
  return [...byStart.entries()]
    .sort(([a], [b]) => a - b)
    .map(([bucketStart, counts]) => ({
      bucketStart,
      counts,
      total: OUTCOME_ORDER.reduce((sum, outcome) => sum + counts[outcome], 0),
    }));
}

/** Each outcome's total over the window. */
export function outcomeTotals(buckets: readonly OutcomeBucket[]): Record<Outcome, number> {
  const totals = zeroCounts();
  for (const bucket of buckets)
    for (const outcome of OUTCOME_ORDER) totals[outcome] += bucket.counts[outcome];
  return totals;
}

export interface ConversionPoint {
  readonly bucketStart: number;
  readonly startedAnonymous: number;
  readonly converted: number;
  /** Null for a bucket in which no profile started anonymous: the line has a gap there. */
  readonly rate: number | null;
}

/** The conversion rate per creation bucket; every bucket of the window. */
export function conversionPoints(stats: Stats): ConversionPoint[] {
  const given = new Map(stats.conversion.byBucket.map((b) => [b.bucketStart, b]));
  return bucketStarts(stats.from, stats.to, stats.bucketMs).map((bucketStart) => {
    const bucket = given.get(bucketStart);
    return bucket === undefined
      ? { bucketStart, startedAnonymous: 0, converted: 0, rate: null }
      : {
          bucketStart,
          startedAnonymous: bucket.startedAnonymous,
          converted: bucket.converted,
          rate: bucket.rate,
        };
  });
}

/** The line's runs: consecutive buckets with a rate, as [index, rate] pairs; a null breaks the line. */
export function lineRuns(points: readonly ConversionPoint[]): Array<Array<readonly [number, number]>> {
  const runs: Array<Array<readonly [number, number]>> = [];
  let current: Array<readonly [number, number]> = [];
  points.forEach((point, index) => {
    if (point.rate === null) {
      if (current.length > 0) runs.push(current);
      current = [];
    } else current.push([index, point.rate]);
  });
  if (current.length > 0) runs.push(current);
  return runs;
}

export interface LagRow {
  readonly id: string;
  readonly name: string;
  readonly revoked: boolean;
  readonly lagMs: number;
  /** The bar's length, 0..1: this lag against the longest, or against a minute if all are shorter. */
  readonly share: number;
}

/** The shortest full bar: devices all seen within the last minute show short bars, not full ones. */
const LAG_SCALE_FLOOR_MS = 60_000;

/** Devices by sync lag, the longest first (then by id), each with its bar's share of the longest. */
export function lagRows(stats: Stats): LagRow[] {
  const sorted = [...stats.devices.lag].sort((a, b) => b.lagMs - a.lagMs || a.id.localeCompare(b.id));
  const scale = Math.max(LAG_SCALE_FLOOR_MS, ...sorted.map((d) => d.lagMs));
  return sorted.map((d) => ({
    id: d.id,
    name: d.name,
    revoked: d.revoked,
    lagMs: d.lagMs,
    share: Math.max(0, d.lagMs) / scale,
  }));
}

/**
 * A bucket's label, in UTC like the buckets themselves: "2 Dec 14:00" for an hour (a day's window
 * holds the same hour twice), "2 Dec" for a day.
 */
export function bucketLabel(bucketStart: number, bucket: StatsBucket): string {
  const at = new Date(bucketStart);
  const day = at.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
  return bucket === 'hour' ? `${day} ${String(at.getUTCHours()).padStart(2, '0')}:00` : day;
}

/** A duration in the largest whole unit that fits: "40 s", "12 min", "3 h", "2 days". */
export function lagInWords(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}

/** A rate as a whole percentage, or a dash when there is none. */
export function percent(rate: number | null): string {
  return rate === null ? '—' : `${Math.round(rate * 100)}%`;
}
