/**
 * The identity rules every benchmark's workspace uses: profile conversion, customerid and email
 * as the unique login identities, device stamp last in priority. One place, so the figures of the
 * resolver, heap, admin-search and server benchmarks describe the same rules.
 */
export const BENCH_IDENTITY_RULES = {
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
};
