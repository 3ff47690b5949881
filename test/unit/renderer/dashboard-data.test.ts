/**
 * The dashboard's chart data shaping (SPEC AC-30..AC-33): every bucket of the window present,
 * outcomes summed over request kinds, the conversion line broken where nothing started
 * anonymous, and devices by lag longest first with their bar's share.
 */
import { describe, expect, it } from 'vitest';
import type { Stats } from '../../../shared/protocol/admin-stats.ts';
import {
  bucketLabel,
  bucketStarts,
  conversionPoints,
  lagInWords,
  lagRows,
  lineRuns,
  outcomeBuckets,
  outcomeTotals,
  statsWindow,
} from '../../../renderer/src/features/admin/dashboard-data.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 10); // 10:00 UTC, an hour boundary

function stats(overrides: Partial<Stats>): Stats {
  return {
    workspace: 'default',
    from: T0 + 30 * 60_000, // 10:30
    to: T0 + 3 * HOUR + 15 * 60_000, // 13:15
    bucket: 'hour',
    bucketMs: HOUR,
    resolutions: [],
    conversion: { startedAnonymous: 0, converted: 0, rate: null, byBucket: [] },
    devices: { total: 0, lag: [] },
    ...overrides,
  };
}

const device = (id: string, lagMs: number) => ({
  id,
  name: `name-${id}`,
  revoked: false,
  lastSeenAt: 0,
  lastAcceptedAt: null,
  lagMs,
  nextSeq: 1,
});

describe('dashboard data', () => {
  it('[AC-31] the windows: the last 24 hours by hour and the last 30 days by day, ending now', () => {
    expect(statsWindow('day', T0)).toEqual({ from: T0 - 24 * HOUR, to: T0, bucket: 'hour' });
    expect(statsWindow('month', T0)).toEqual({ from: T0 - 30 * 24 * HOUR, to: T0, bucket: 'day' });
  });

  it('[AC-30] lists every bucket the window touches, from the one holding `from` to the one before `to`', () => {
    expect(bucketStarts(T0 + 1, T0 + 2 * HOUR, HOUR)).toEqual([T0, T0 + HOUR]);
    expect(bucketStarts(T0, T0 + 2 * HOUR + 1, HOUR)).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
  });

  it('[AC-30] sums request kinds per outcome, quiet buckets as zeros, oldest first', () => {
    const buckets = outcomeBuckets(
      stats({
        resolutions: [
          { bucketStart: T0, kind: 'identify', outcome: 'created', count: 2 },
          { bucketStart: T0, kind: 'login', outcome: 'created', count: 1 },
          { bucketStart: T0, kind: 'login', outcome: 'converted', count: 1 },
          { bucketStart: T0 + 3 * HOUR, kind: 'modify', outcome: 'failed', count: 4 },
          { bucketStart: T0 + 3 * HOUR, kind: 'identify', outcome: 'matched', count: 5 },
        ],
      }),
    );
    expect(buckets.map((b) => [b.bucketStart, b.total])).toEqual([
      [T0, 4],
      [T0 + HOUR, 0],
      [T0 + 2 * HOUR, 0],
      [T0 + 3 * HOUR, 9],
    ]);
    expect(buckets[0]!.counts).toEqual({ created: 3, converted: 1, matched: 0, failed: 0 });
    expect(outcomeTotals(buckets)).toEqual({ created: 3, converted: 1, matched: 5, failed: 4 });
  });

  it('[AC-32] the conversion line has a point per bucket and a gap where nothing started anonymous', () => {
    const points = conversionPoints(
      stats({
        conversion: {
          startedAnonymous: 3,
          converted: 1,
          rate: 1 / 3,
          byBucket: [
            { bucketStart: T0, startedAnonymous: 1, converted: 1, rate: 1 },
            { bucketStart: T0 + 2 * HOUR, startedAnonymous: 2, converted: 0, rate: 0 },
            { bucketStart: T0 + 3 * HOUR, startedAnonymous: 2, converted: 1, rate: 0.5 },
          ],
        },
      }),
    );
    expect(points.map((p) => p.rate)).toEqual([1, null, 0, 0.5]);
    expect(lineRuns(points)).toEqual([
      [[0, 1]],
      [
        [2, 0],
        [3, 0.5],
      ],
    ]);
    expect(lineRuns(conversionPoints(stats({})))).toEqual([]);
  });

  it('[AC-33] devices by lag, the longest first then by id, each bar a share of the longest', () => {
    const rows = lagRows(
      stats({ devices: { total: 3, lag: [device('b', HOUR), device('c', 4 * HOUR), device('a', HOUR)] } }),
    );
    expect(rows.map((r) => [r.id, r.share])).toEqual([
      ['c', 1],
      ['a', 0.25],
      ['b', 0.25],
    ]);
  });

  it('[AC-33] devices all seen within the last minute get short bars, not full ones', () => {
    const rows = lagRows(stats({ devices: { total: 2, lag: [device('x', 0), device('y', 15_000)] } }));
    expect(rows.map((r) => [r.id, r.share])).toEqual([
      ['y', 0.25],
      ['x', 0],
    ]);
  });

  it('[AC-30] labels buckets in UTC and lags in the largest whole unit', () => {
    expect(bucketLabel(T0 + 3 * HOUR, 'hour')).toBe('1 Dec 13:00');
    expect(bucketLabel(Date.UTC(2026, 11, 2), 'day')).toBe('2 Dec');
    expect([40_000, 12 * 60_000, 3 * HOUR, 50 * HOUR].map(lagInWords)).toEqual([
      '40 s',
      '12 min',
      '3 h',
      '2 days',
    ]);
  });
});
