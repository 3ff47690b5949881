/**
 * The HMAC signatures this process has accepted, each kept until its `Date` leaves the 5-minute
 * window (HL-6), so a captured signed request cannot run twice. Memory is bounded by `maxEntries`:
 * when full, the oldest entry is forgotten and every signature expiring no later than it is from
 * then on refused as unverifiable (re-signing with the current Date passes), so the cap can slow
 * clients with old Dates but never lets a replay through. Per process: servers behind one load
 * balancer do not share it (docs/design.md, "Limits and credentials").
 */
export type SignatureUse = 'fresh' | 'replayed' | 'unverifiable';

/** About 135 bytes each (measured): 100,000 entries hold 13 MB, ~330 signed requests/s for 5 minutes. */
const DEFAULT_MAX_SIGNATURES = 100_000;

export class SeenSignatures {
  /** Signature → when its Date leaves the window; in insertion order. */
  private readonly entries = new Map<string, number>();
  /** Signatures expiring at or before this instant may have been forgotten. */
  private forgottenUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxEntries = DEFAULT_MAX_SIGNATURES) {}

  get size(): number {
    return this.entries.size;
  }

  /** Records a verified signature valid until `expiresAt`, unless it was (or may have been) seen. */
  record(signature: string, expiresAt: number, now: number): SignatureUse {
    this.sweep(now);
    if (this.entries.has(signature)) return 'replayed';
    if (expiresAt <= this.forgottenUntil) return 'unverifiable';
    this.entries.set(signature, expiresAt);
    if (this.entries.size > this.maxEntries) {
      const [oldest] = this.entries;
      if (oldest !== undefined) {
        this.entries.delete(oldest[0]);
        this.forgottenUntil = Math.max(this.forgottenUntil, oldest[1]);
      }
    }
    return 'fresh';
  }

  /** Drops expired entries from the front (entries arrive in roughly expiry order). */
  private sweep(now: number): void {
    for (const [signature, expiresAt] of this.entries) {
      if (expiresAt > now) return;
      this.entries.delete(signature);
    }
  }
}
