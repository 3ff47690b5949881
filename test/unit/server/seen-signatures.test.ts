import { describe, expect, it } from 'vitest';
import { SeenSignatures } from '../../../server/auth/seen-signatures.ts';

describe('seen signatures', () => {
  it('[HL-6] a signature is fresh once; again before it expires it is a replay; expired ones are swept', () => {
    const seen = new SeenSignatures(10);
    expect(seen.record('s1', 1000, 0)).toBe('fresh');
    expect(seen.record('s1', 1000, 500)).toBe('replayed');
    expect(seen.record('s2', 2000, 500)).toBe('fresh');
    expect(seen.record('s3', 3000, 1500)).toBe('fresh');
    expect(seen.size).toBe(2);
  });

  it('[HL-6] at the cap the oldest is forgotten, and anything expiring no later than it is refused, never replayed', () => {
    const seen = new SeenSignatures(2);
    expect(seen.record('a', 5000, 0)).toBe('fresh');
    expect(seen.record('b', 6000, 0)).toBe('fresh');
    expect(seen.record('c', 7000, 0)).toBe('fresh');
    expect(seen.size).toBe(2);
    expect(seen.record('a', 5000, 10)).toBe('unverifiable');
    expect(seen.record('older', 4000, 10)).toBe('unverifiable');
    expect(seen.record('later', 5001, 10)).toBe('fresh');
  });
});
