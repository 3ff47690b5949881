/**
 * The identity type catalogue (SPEC ID-1..ID-4): every IDSync wire key, its SDK numeric code, its
 * category, and the alternate spellings clients send. Alternate spellings are normalised to the
 * canonical key before anything else looks at a request.
 */
import { z } from 'zod';

export const USER_IDENTITY_TYPES = [
  'other',
  'customerid',
  'facebook',
  'twitter',
  'google',
  'microsoft',
  'yahoo',
  'email',
  'alias',
  'facebookcustomaudienceid',
  'other2',
  'other3',
  'other4',
  'other5',
  'other6',
  'other7',
  'other8',
  'other9',
  'other10',
  'mobile_number',
  'phone_number_2',
  'phone_number_3',
] as const;

export const DEVICE_IDENTITY_TYPES = [
  'ios_idfa',
  'ios_idfv',
  'android_aaid',
  'android_uuid',
  'fire_aid',
  'push_token',
  'roku_aid',
  'roku_publisher_id',
  'microsoft_aid',
  'microsoft_publisher_id',
  'amp_id',
  'device_application_stamp',
] as const;

export const IDENTITY_TYPES = [...USER_IDENTITY_TYPES, ...DEVICE_IDENTITY_TYPES] as const;

export type UserIdentityType = (typeof USER_IDENTITY_TYPES)[number];
export type DeviceIdentityType = (typeof DEVICE_IDENTITY_TYPES)[number];
export type IdentityType = (typeof IDENTITY_TYPES)[number];

export const IdentityTypeSchema = z.enum(IDENTITY_TYPES);

/** SDK `IdentityType` enum codes (web/Android) for user identities. */
export const SDK_IDENTITY_CODES: Readonly<Partial<Record<IdentityType, number>>> = {
  other: 0,
  customerid: 1,
  facebook: 2,
  twitter: 3,
  google: 4,
  microsoft: 5,
  yahoo: 6,
  email: 7,
  alias: 8,
  facebookcustomaudienceid: 9,
  other2: 10,
  other3: 11,
  other4: 12,
  other5: 13,
  other6: 14,
  other7: 15,
  other8: 16,
  other9: 17,
  other10: 18,
  mobile_number: 19,
  phone_number_2: 20,
  phone_number_3: 21,
};

/** Other spellings seen in SDKs, the Events API and the UI, mapped to the canonical key (ID-2). */
export const IDENTITY_TYPE_ALIASES: Readonly<Record<string, IdentityType>> = {
  customer_id: 'customerid',
  email_sha256: 'other',
  mobile_sha256: 'other2',
  facebook_custom_audience_id: 'facebookcustomaudienceid',
  other_id_2: 'other2',
  other_id_3: 'other3',
  other_id_4: 'other4',
  other_id_5: 'other5',
  other_id_6: 'other6',
  other_id_7: 'other7',
  other_id_8: 'other8',
  other_id_9: 'other9',
  other_id_10: 'other10',
  ios_advertising_id: 'ios_idfa',
  ios_vendor_id: 'ios_idfv',
  android_advertising_id: 'android_aaid',
  android_id: 'android_uuid',
  fire_advertising_id: 'fire_aid',
  roku_advertising_id: 'roku_aid',
  microsoft_advertising_id: 'microsoft_aid',
  das: 'device_application_stamp',
};

const CANONICAL = new Set<string>(IDENTITY_TYPES);
const USER = new Set<string>(USER_IDENTITY_TYPES);

/** The canonical key for a wire key, or `null` when the key is not an identity type at all. */
export function canonicalIdentityType(key: string): IdentityType | null {
  if (CANONICAL.has(key)) return key as IdentityType;
  return Object.prototype.hasOwnProperty.call(IDENTITY_TYPE_ALIASES, key)
    ? (IDENTITY_TYPE_ALIASES[key] as IdentityType)
    : null;
}

export function isUserIdentityType(type: IdentityType): type is UserIdentityType {
  return USER.has(type);
}

export function isDeviceIdentityType(type: IdentityType): type is DeviceIdentityType {
  return !USER.has(type);
}

/** Identity types whose values a `modify` request may never set (ID-4). */
export const UNMODIFIABLE_IDENTITY_TYPES: ReadonlySet<IdentityType> = new Set(['device_application_stamp']);

/** Longest identity value accepted anywhere (characters). */
export const MAX_IDENTITY_VALUE_LENGTH = 1024;
