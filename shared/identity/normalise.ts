/**
 * Identity value normalisation (SPEC NV-1, decision D1). Values are normalised per type before
 * lookup and storage, so `" Ed@X.com "` and `"ed@x.com"` are one identity. The steps are a closed
 * vocabulary so a workspace can configure them without running arbitrary code.
 */
import { z } from 'zod';
import type { IdentityType } from './identity-types.ts';

export const NORMALISATION_STEPS = ['trim', 'lowercase', 'strip_phone_punctuation'] as const;
export const NormalisationStepSchema = z.enum(NORMALISATION_STEPS);
export type NormalisationStep = (typeof NORMALISATION_STEPS)[number];

export type NormalisationRules = Partial<Record<IdentityType, readonly NormalisationStep[]>>;

/** The default rules (D1): email trimmed and lower-cased, phone types stripped of punctuation. */
export function defaultNormalisation(): Partial<Record<IdentityType, NormalisationStep[]>> {
  return {
    email: ['trim', 'lowercase'],
    mobile_number: ['trim', 'strip_phone_punctuation'],
    phone_number_2: ['trim', 'strip_phone_punctuation'],
    phone_number_3: ['trim', 'strip_phone_punctuation'],
  };
}

const PHONE_PUNCTUATION = /[\s\-.()]/g;

function applyStep(value: string, step: NormalisationStep): string {
  switch (step) {
    case 'trim':
      return value.trim();
    case 'lowercase':
      return value.toLowerCase();
    case 'strip_phone_punctuation':
      // Spaces, dashes, dots and parentheses go; a leading `+` (and every digit) stays.
      return value.replace(PHONE_PUNCTUATION, '');
  }
}

export function normaliseIdentityValue(rules: NormalisationRules, type: IdentityType, value: string): string {
  const steps = rules[type];
  if (steps === undefined) return value;
  let out = value;
  for (const step of steps) out = applyStep(out, step);
  return out;
}
