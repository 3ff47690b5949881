import type { IdentityType } from '../../../shared/identity/identity-types.ts';
import type { PersonView } from '../device/views.ts';

const NAMING: readonly IdentityType[] = ['customerid', 'email', 'mobile_number', 'other'];

/** What a person is called on screen: their first customer ID, email or phone, else "Anonymous person". */
export function personTitle(person: Pick<PersonView, 'identities'>): string {
  for (const type of NAMING) {
    const value = person.identities[type]?.[0];
    if (value !== undefined) return value;
  }
  return 'Anonymous person';
}
