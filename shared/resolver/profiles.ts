/**
 * Small facts about identity records that every rule needs: does a record hold a value, is it
 * known (holds a login-type value), is it an orphan, and the working set of records a resolution
 * loaded.
 */
import type { IdentityType } from '../identity/identity-types.ts';
import type { IdentitySet, ProfileRecord } from './records.ts';

export function holds(identities: IdentitySet, type: IdentityType, value: string): boolean {
  const values = identities[type];
  return values !== undefined && values.includes(value);
}

export function holdsAnyOf(identities: IdentitySet, types: readonly IdentityType[]): boolean {
  for (const type of types) {
    const values = identities[type];
    if (values !== undefined && values.length > 0) return true;
  }
  return false;
}

export function hasIdentities(identities: IdentitySet): boolean {
  for (const key in identities) {
    const values = identities[key as IdentityType];
    if (values !== undefined && values.length > 0) return true;
  }
  return false;
}

/** Known = holds at least one value of a login type (spec §1.4). */
export function isKnown(identities: IdentitySet, loginTypes: readonly IdentityType[]): boolean {
  return holdsAnyOf(identities, loginTypes);
}

/** Orphans (SPEC EL-1) are never returned: the flag is set when modify removed their last identifier. */
export function isOrphan(record: ProfileRecord): boolean {
  return record.orphanedAt !== null;
}

/** The records a resolution loaded (a handful), with the holders of each requested value. */
export class WorkingSet {
  constructor(readonly records: readonly ProfileRecord[]) {}

  get(mpid: string): ProfileRecord | undefined {
    for (const record of this.records) if (record.mpid === mpid) return record;
    return undefined;
  }

  /** Every loaded record holding `value` for `type`, in load order. */
  holders(type: IdentityType, value: string): ProfileRecord[] {
    const out: ProfileRecord[] = [];
    for (const record of this.records) if (holds(record.identities, type, value)) out.push(record);
    return out;
  }

  /** The record other than `mpid` holding `value` for `type`, if any. */
  otherHolder(type: IdentityType, value: string, mpid: string | null): ProfileRecord | undefined {
    for (const record of this.records) {
      if (record.mpid !== mpid && holds(record.identities, type, value)) return record;
    }
    return undefined;
  }
}
