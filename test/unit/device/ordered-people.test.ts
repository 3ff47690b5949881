/**
 * The people list kept in order as people change (SPEC UP-14, DV-6), against the list sorted anew
 * after every change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newestFirst, OrderedPeople, type Ordered } from '../../../shared/device/ordered-people.ts';

const envSeed = process.env['PROPERTY_SEED'];
/** The seed of the property: printed, and taken from PROPERTY_SEED to reproduce a run. */
const SEED = envSeed === undefined ? Date.now() % 2 ** 31 : Number(envSeed);
console.log(`ordered-people property: seed ${SEED} (PROPERTY_SEED=${SEED} reproduces)`);
/** Seeds kept from earlier runs, run every time. */
const PINNED_SEEDS = [1, 424_242, 1_733_240_000];

type Step =
  | { readonly op: 'set'; readonly mpid: string; readonly lastSeenAt: number | null }
  | { readonly op: 'reset'; readonly people: readonly Ordered[] };

// A few MPIDs and few times, so that the same person changes often and times tie.
const mpid = fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8');
const time = fc.integer({ min: 0, max: 5 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({ op: fc.constant('set' as const), mpid, lastSeenAt: fc.option(time) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('reset' as const),
      people: fc.uniqueArray(fc.record({ mpid, lastSeenAt: time }), {
        selector: (p) => p.mpid,
        maxLength: 8,
      }),
    }),
  },
);

const property = fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
  const ordered = new OrderedPeople<Ordered>();
  const model = new Map<string, Ordered>();
  let previous = ordered.list();
  for (const s of steps) {
    const before = [...previous];
    if (s.op === 'reset') {
      model.clear();
      for (const p of s.people) model.set(p.mpid, p);
      ordered.reset(s.people);
    } else {
      const view = s.lastSeenAt === null ? null : { mpid: s.mpid, lastSeenAt: s.lastSeenAt };
      if (view === null) model.delete(s.mpid);
      else model.set(s.mpid, view);
      ordered.set(s.mpid, view);
    }
    const list = ordered.list();
    expect(list).toStrictEqual([...model.values()].sort(newestFirst));
    // A list handed out before does not change afterwards.
    expect(previous).toStrictEqual(before);
    previous = list;
  }
});

describe('the people list in order (UP-14)', () => {
  it('[UP-14][DV-6] after any changes the list is everyone listed, most recently seen first, then by MPID', () => {
    fc.assert(property, { seed: SEED, numRuns: 300 });
  });

  for (const seed of PINNED_SEEDS) {
    it(`[UP-14] pinned seed ${seed}`, () => {
      fc.assert(property, { seed, numRuns: 100 });
    });
  }

  it('[UP-14] the same array is handed out until something changes, and a view set again changes nothing', () => {
    const ordered = new OrderedPeople<Ordered>();
    const a = { mpid: 'a', lastSeenAt: 1 };
    ordered.reset([a, { mpid: 'b', lastSeenAt: 2 }]);
    const first = ordered.list();
    ordered.set('a', a);
    ordered.set('nobody', null);
    expect(ordered.list()).toBe(first);
    ordered.set('a', { mpid: 'a', lastSeenAt: 3 });
    expect(ordered.list()).not.toBe(first);
    expect(ordered.list().map((p) => p.mpid)).toEqual(['a', 'b']);
  });
});
