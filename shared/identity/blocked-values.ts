/**
 * Blocked identity values (SPEC NV-2, decision D2). Placeholder values that buggy integrations
 * send ("null", "guest", "0"...) would otherwise merge unrelated people onto one profile. A blocked
 * value is dropped from the request and reported in the explain trace; it is never looked up or
 * stored. Exact entries match after trimming, case-insensitively; patterns are regular expressions
 * tested against the normalised value.
 */
import { z } from 'zod';

export const DEFAULT_BLOCKED_VALUES: readonly string[] = [
  '',
  'null',
  'undefined',
  'none',
  'nan',
  'anonymous',
  'guest',
  '0',
  '-1',
  '[object object]',
];

export const MAX_BLOCKED_PATTERN_LENGTH = 200;

export const BlockedValuesSchema = z.object({
  exact: z
    .array(z.string().max(1024))
    .max(1000)
    .default([...DEFAULT_BLOCKED_VALUES]),
  patterns: z
    .array(
      z
        .string()
        .min(1)
        .max(MAX_BLOCKED_PATTERN_LENGTH)
        .refine(isValidPattern, { message: 'not a valid regular expression' }),
    )
    .max(100)
    .default([]),
});
export type BlockedValues = z.infer<typeof BlockedValuesSchema>;

function isValidPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

/** A compiled matcher for one workspace's blocked values. */
export interface BlockedValueMatcher {
  isBlocked(value: string): boolean;
}

export function compileBlockedValues(blocked: BlockedValues): BlockedValueMatcher {
  const exact = new Set(blocked.exact.map((v) => v.trim().toLowerCase()));
  const patterns = blocked.patterns.map((p) => new RegExp(p, 'u'));
  return {
    isBlocked(value: string): boolean {
      if (exact.has(value.trim().toLowerCase())) return true;
      for (const pattern of patterns) if (pattern.test(value)) return true;
      return false;
    },
  };
}
