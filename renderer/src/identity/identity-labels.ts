import type { IdentityType } from '../../../shared/identity/identity-types.ts';

const LABELS: Partial<Record<IdentityType, string>> = {
  customerid: 'Customer ID',
  email: 'Email',
  mobile_number: 'Phone',
  phone_number_2: 'Second phone',
  phone_number_3: 'Third phone',
  other: 'Other ID',
  facebook: 'Facebook ID',
  google: 'Google ID',
  twitter: 'Twitter ID',
  microsoft: 'Microsoft ID',
  yahoo: 'Yahoo ID',
  alias: 'Alias',
};

/** How an identity type is named on screen ("Customer ID", "Email", "Phone"). */
export function identityLabel(type: IdentityType): string {
  return LABELS[type] ?? type.replaceAll('_', ' ');
}

/** The same name inside a sentence ("a customer ID", "an email"). */
export function identityNoun(type: IdentityType): string {
  const label = identityLabel(type);
  const lower = type === 'customerid' ? 'customer ID' : label.toLowerCase();
  return /^[aeiou]/i.test(lower) ? `an ${lower}` : `a ${lower}`;
}
