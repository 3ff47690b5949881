import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../../server/http/token-buckets.ts';

describe('token buckets', () => {
  it('[HL-8] a key gets its capacity at once, then refills at capacity per window; keys are independent', () => {
    const buckets = new TokenBuckets(2, 1000);
    expect(buckets.take('a', 0)).toEqual({ granted: true });
    expect(buckets.take('a', 0)).toEqual({ granted: true });
    expect(buckets.take('a', 0)).toEqual({ granted: false, retryAfterSec: 1 });
    expect(buckets.take('b', 0)).toEqual({ granted: true });
    expect(buckets.take('a', 500)).toEqual({ granted: true });
    expect(buckets.take('a', 500)).toEqual({ granted: false, retryAfterSec: 1 });
  });

  it('[HL-8] Retry-After is the whole seconds until one token is back', () => {
    const buckets = new TokenBuckets(3, 60_000);
    for (let i = 0; i < 3; i++) buckets.take('ip', 0);
    expect(buckets.take('ip', 0)).toEqual({ granted: false, retryAfterSec: 20 });
    expect(buckets.waitSec('ip', 15_500)).toBe(5);
    expect(buckets.waitSec('ip', 20_000)).toBe(0);
    expect(buckets.waitSec('never-seen', 0)).toBe(0);
  });

  it('[HL-8] memory is bounded: past the cap the least recently used key is forgotten', () => {
    const buckets = new TokenBuckets(1, 1000, 3);
    for (const key of ['a', 'b', 'c']) buckets.take(key, 0);
    buckets.take('a', 0);
    buckets.take('d', 0);
    expect(buckets.size).toBe(3);
    expect(buckets.waitSec('b', 0)).toBe(0);
    expect(buckets.waitSec('a', 0)).toBe(1);
  });
});
