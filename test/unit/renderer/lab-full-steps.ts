/**
 * Lab form fixtures (SPEC LB-16): a modify and an expect step with every field of the scenario
 * schema set, for device `tablet`, so tests can check the form leaves what it was not asked to edit.
 */
/** A modify and an expect step with every field set, notices and attributes included. */
export const FULL_STEPS: readonly unknown[] = [
  {
    device: 'tablet',
    do: 'modify',
    changes: [
      { type: 'email', old: 'old@example.com', new: 'new@example.com' },
      { type: 'mobile_number', old: '+100', new: null },
    ],
    expect: { mpid: '@customer', created: false },
    afterSync: { mpid: '@customer', loggedIn: true },
  },
  {
    do: 'expect',
    profiles: [
      {
        mpid: '@customer',
        identities: { customerid: ['c1', 'c2'], email: ['new@example.com'] },
        events: ['login', 'purchase'],
        attributes: { tier: 'gold', visits: 3 },
        orphaned: false,
      },
      { mpid: '!@customer', orphaned: true },
    ],
    absent: ['@gone'],
    profileCount: 1,
    devices: {
      tablet: {
        currentUser: '@customer',
        pending: 0,
        localEvents: 2,
        people: ['@customer', '@visitor'],
        notices: [{ kind: 'merged' }, { kind: 'failed', code: 'IDENTITY_TAKEN' }],
      },
    },
    converged: true,
    invariants: true,
  },
];
