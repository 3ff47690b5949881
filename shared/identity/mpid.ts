/**
 * MPIDs (SPEC MP-1..MP-4): signed 64-bit integers carried as canonical decimal strings. Zero is
 * reserved by the SDKs for "no MPID yet", so it is never issued and never accepted. JavaScript
 * numbers cannot hold these values, so they never pass through `number`.
 */
import { z } from 'zod';
import type { RandomSource } from '../util/random.ts';

const MPID_PATTERN = /^-?[1-9][0-9]{0,18}$/;
const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;

export type Mpid = string;

/** True when `text` is the canonical decimal form of a non-zero signed 64-bit integer. */
export function isMpid(text: string): boolean {
  if (!MPID_PATTERN.test(text)) return false;
  if (text.length < 19) return true;
  const value = BigInt(text);
  return value >= MIN && value <= MAX;
}

export const MpidSchema = z
  .string()
  .refine(isMpid, { message: 'an MPID is a non-zero signed 64-bit integer written as a decimal string' });

/**
 * Parses an MPID from a wire value. Strings must already be canonical; JSON numbers are accepted
 * only when they are safe integers (a larger number has already lost precision in transit).
 */
export function parseMpid(value: unknown): Mpid | null {
  if (typeof value === 'string') return isMpid(value) ? value : null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value !== 0) return String(value);
  return null;
}

/** Draws a uniformly random non-zero signed 64-bit MPID. */
export function randomMpid(random: RandomSource): Mpid {
  for (;;) {
    const high = BigInt(random.nextUint32());
    const low = BigInt(random.nextUint32());
    const value = BigInt.asIntN(64, (high << 32n) | low);
    if (value !== 0n) return value.toString();
  }
}
