/**
 * Token buckets per key: each key may spend `capacity` requests at once and gets them back at
 * `capacity` per `windowMs`. Memory is bounded: at most `maxKeys` buckets are kept, and past that the
 * least recently used one is forgotten (a forgotten key starts again with a full bucket, so the cap
 * can only make a limit more lenient, never lock anyone out). Time is passed in, so tests and a
 * server clock that stands still count exactly.
 */
export type Take = { readonly granted: true } | { readonly granted: false; readonly retryAfterSec: number };

interface Bucket {
  tokens: number;
  at: number;
}

const DEFAULT_MAX_KEYS = 50_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly capacity: number,
    private readonly windowMs: number,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  /** Spends one token of `key`, or says how many whole seconds until one is back. */
  take(key: string, now: number): Take {
    const bucket = this.touch(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { granted: true };
    }
    return { granted: false, retryAfterSec: this.secondsUntilToken(bucket) };
  }

  /** Whole seconds until `key` has a token (0: it has one now); spends nothing. */
  waitSec(key: string, now: number): number {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return 0;
    const tokens = this.refilled(bucket, now);
    return tokens >= 1 ? 0 : this.secondsUntilToken({ tokens, at: now });
  }

  private refilled(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.at);
    return Math.min(this.capacity, bucket.tokens + (elapsed * this.capacity) / this.windowMs);
  }

  private secondsUntilToken(bucket: Bucket): number {
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * this.windowMs) / this.capacity / 1000));
  }

  /** The key's bucket refilled to `now`, moved to the most recently used end of the map. */
  private touch(key: string, now: number): Bucket {
    const found = this.buckets.get(key);
    const bucket = found === undefined ? { tokens: this.capacity, at: now } : found;
    if (found !== undefined) {
      bucket.tokens = this.refilled(found, now);
      bucket.at = Math.max(found.at, now);
      this.buckets.delete(key);
    }
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done !== true) this.buckets.delete(oldest.value);
    }
    return bucket;
  }
}
