/**
 * Randomness is injected everywhere (MPIDs, generated request ids) so that resolution is
 * reproducible in tests, fuzzers and the simulator. Production callers pass a source backed by
 * the platform's cryptographic generator; tests pass `seededRandom(seed)`.
 */
export interface RandomSource {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number;
}

/**
 * A small, fast, seedable generator (sfc32 seeded through splitmix32). Not cryptographic: use it
 * for tests, fuzzers and simulations only.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  const splitmix = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return {
    nextUint32(): number {
      const t = (((a + b) >>> 0) + d) >>> 0;
      d = (d + 1) >>> 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) >>> 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) >>> 0;
      return t;
    },
  };
}

/** Adapts a platform generator such as `crypto.getRandomValues` to a `RandomSource`. */
export function randomFromFill(fill: (buffer: Uint32Array) => Uint32Array, batch = 256): RandomSource {
  const buffer = new Uint32Array(batch);
  let index = batch;
  return {
    nextUint32(): number {
      if (index >= batch) {
        fill(buffer);
        index = 0;
      }
      return buffer[index++] as number;
    },
  };
}

const HEX = '0123456789abcdef';

/** A random RFC 4122 version-4 UUID drawn from `random`. */
export function randomUuid(random: RandomSource): string {
  let out = '';
  for (let word = 0; word < 4; word++) {
    let bits = random.nextUint32();
    for (let nibble = 0; nibble < 8; nibble++) {
      const position = word * 8 + nibble;
      let digit = bits & 0xf;
      bits >>>= 4;
      if (position === 12) digit = 4;
      if (position === 16) digit = (digit & 0x3) | 0x8;
      if (position === 8 || position === 12 || position === 16 || position === 20) out += '-';
      out += HEX[digit];
    }
  }
  return out;
}
