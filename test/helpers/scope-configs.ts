/** The workspace configs tests share, so one shape is written once. */
import type { ScopeConfigInput } from '../../shared/identity/scope-config.ts';

/** Profile conversion with customer ID and email as unique login identities. */
export const SYNC_CONFIG: ScopeConfigInput = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
};
