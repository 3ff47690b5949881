/**
 * Network faults for the convergence fuzzer (SPEC SM-7): a fetch that, on a seeded schedule,
 * fails before a request reaches the server, delivers a request and then loses the answer (a
 * dropped acknowledgement), or delivers it twice (a retried push whose first copy arrived).
 */
import type { RandomSource } from '../shared/util/random.ts';

export interface FaultRates {
  /** The request never reaches the server. */
  readonly lose: number;
  /** The server handles the request but the device never hears back. */
  readonly dropAnswer: number;
  /** The request reaches the server twice; the device sees the second answer. */
  readonly duplicate: number;
}

export const NO_FAULTS: FaultRates = { lose: 0, dropAnswer: 0, duplicate: 0 };

export interface FaultCounts {
  lost: number;
  droppedAnswers: number;
  duplicated: number;
}

/**
 * Wraps `inner` so requests to the sync API suffer the given faults, drawn from `random`, until
 * `heal(true)` (the network recovers; `heal(false)` breaks it again).
 */
export function faultyFetch(
  rates: FaultRates,
  random: RandomSource,
  inner: typeof fetch = fetch,
): { fetch: typeof fetch; counts: FaultCounts; heal(healed: boolean): void } {
  let healthy = false;
  const counts: FaultCounts = { lost: 0, droppedAnswers: 0, duplicated: 0 };
  const wrapped: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (healthy || !url.includes('/sync/')) return inner(input, init);
    const draw = random.nextUint32() / 2 ** 32;
    if (draw < rates.lose) {
      counts.lost += 1;
      throw new TypeError('fetch failed (simulated: the request was lost)');
    }
    if (draw < rates.lose + rates.dropAnswer) {
      counts.droppedAnswers += 1;
      await (await inner(input, init)).text();
      throw new TypeError('fetch failed (simulated: the answer was lost)');
    }
    if (draw < rates.lose + rates.dropAnswer + rates.duplicate) {
      counts.duplicated += 1;
      await (await inner(input, init)).text();
    }
    return inner(input, init);
  };
  return {
    fetch: wrapped,
    counts,
    heal(healed) {
      healthy = healed;
    },
  };
}
