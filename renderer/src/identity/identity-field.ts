/**
 * What a typed identity value becomes, checked as it is typed with the rules the resolver applies
 * (shared/identity): the workspace's normalisation (NV-1), its blocked values (NV-2) and the
 * longest value the server accepts; plus the shape of an email or a phone number, so a typo is
 * caught before it becomes someone's identity.
 */
import { z } from 'zod';
import { MAX_IDENTITY_VALUE_LENGTH, type IdentityType } from '../../../shared/identity/identity-types.ts';
import { compileBlockedValues } from '../../../shared/identity/blocked-values.ts';
import { normaliseIdentityValue } from '../../../shared/identity/normalise.ts';
import type { ScopeConfig } from '../../../shared/identity/scope-config.ts';
import { identityNoun } from './identity-labels.ts';

export type IdentityCheck =
  | { readonly kind: 'empty' }
  | { readonly kind: 'ok'; readonly value: string; readonly changed: boolean }
  /** `early`: worth saying while the value is still being typed (a blocked or over-long value). */
  | { readonly kind: 'error'; readonly message: string; readonly early: boolean };

const EMAIL_TYPES: ReadonlySet<IdentityType> = new Set(['email']);
const PHONE_TYPES: ReadonlySet<IdentityType> = new Set(['mobile_number', 'phone_number_2', 'phone_number_3']);
const PHONE = /^\+?[0-9]{6,15}$/;

/** The zod schema a field of this type is validated with: normalised output, errors in words. */
function identityValueSchema(config: ScopeConfig, type: IdentityType) {
  const blocked = compileBlockedValues(config.blockedValues);
  return z
    .string()
    .max(MAX_IDENTITY_VALUE_LENGTH, `This is too long: at most ${MAX_IDENTITY_VALUE_LENGTH} characters`)
    .transform((raw) => normaliseIdentityValue(config.normalisation, type, raw))
    .superRefine((value, ctx) => {
      if (value.trim() === '') return;
      if (blocked.isBlocked(value)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${value.trim()}" is a placeholder, not ${identityNoun(type)}: this workspace ignores it`,
          params: { early: true },
        });
      } else if (EMAIL_TYPES.has(type) && !z.email().safeParse(value.trim()).success) {
        ctx.addIssue({ code: 'custom', message: 'Enter an email address like name@example.com' });
      } else if (PHONE_TYPES.has(type) && !PHONE.test(value.trim())) {
        ctx.addIssue({
          code: 'custom',
          message: 'Enter a phone number of 6 to 15 digits, with + and the country code if you have it',
        });
      }
    });
}

export function checkIdentityValue(config: ScopeConfig, type: IdentityType, raw: string): IdentityCheck {
  if (raw.trim() === '') return { kind: 'empty' };
  const parsed = identityValueSchema(config, type).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const early = issue?.code !== 'custom' || issue.params?.['early'] === true;
    return { kind: 'error', message: issue?.message ?? 'This value is not valid', early };
  }
  return { kind: 'ok', value: parsed.data, changed: parsed.data !== raw };
}

/** The identity types the quick forms offer: customer ID, email and phone, as the workspace ranks them. */
export function offeredIdentityTypes(config: ScopeConfig): IdentityType[] {
  const quick: ReadonlySet<IdentityType> = new Set(['customerid', 'email', 'mobile_number']);
  return config.identityPriority.filter((type) => quick.has(type));
}
