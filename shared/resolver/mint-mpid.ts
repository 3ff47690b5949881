/**
 * Issuing an MPID for a new record (SPEC MP-2, MP-3): the caller's preferred MPID (a device's
 * provisional MPID) when it is valid and was never issued, otherwise a fresh random one, retried
 * until the store has never seen it.
 */
import { isMpid, randomMpid } from '../identity/mpid.ts';
import type { RandomSource } from '../util/random.ts';
import { store, type Program } from './store-port.ts';

export function* mintMpid(random: RandomSource, preferred: string | undefined): Program<string> {
  if (preferred !== undefined && isMpid(preferred) && !(yield* store.mpidTaken(preferred))) return preferred;
  for (;;) {
    const candidate = randomMpid(random);
    if (!(yield* store.mpidTaken(candidate))) return candidate;
  }
}
