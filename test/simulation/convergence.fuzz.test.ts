/**
 * Seeded convergence fuzzer (SPEC SM-7): generated timelines of 2-5 devices working offline,
 * logging customers in and out, modifying identities, recording events, restarting, and syncing
 * in random orders while the server stops and starts and the network loses requests, loses
 * answers and duplicates pushes. Invariants are checked along the way; at the end every device's
 * view equals the server's and the server's graph equals a serial replay of what it accepted.
 *
 * Reproduce a failure with `npm run simulate -- --random 1 --seed <seed> --devices <n> --faults 0.1`
 * (printed in the message). Pinned seeds are regressions found by this fuzzer.
 */
import { describe, expect, it } from 'vitest';
import { randomScenario } from '../../simulator/random-scenario.ts';
import { runScenario } from '../../simulator/run-scenario.ts';

/**
 * Seed 1 found the unfed projection change when a device newly supplies a value (see SY-6); seed
 * 629969622 a replay that resolved with exact last-seen times where the server kept coarse ones
 * (LS-3), so the A4 tie-break picked another of the profiles holding the stamp.
 */
const PINNED_SEEDS = [1, 2, 3, 100, 20261128, 629969622];
const RUNS = Number(process.env['SIM_FUZZ_RUNS'] ?? 50);
const BASE = Number(process.env['SIM_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 30));
const FAULTS = { lose: 0.08, dropAnswer: 0.08, duplicate: 0.08 };

async function check(seed: number): Promise<void> {
  const devices = 2 + (seed % 4);
  const scenario = randomScenario({ seed, devices, steps: 60, serverFaults: true });
  const report = await runScenario(scenario, { seed, faults: FAULTS, invariantsEveryStep: true });
  const reproduce = `npm run simulate -- --random 1 --seed ${seed} --devices ${devices} --faults 0.08`;
  const failures = report.failures.map(
    (f) => `step ${f.step} ${JSON.stringify(scenario.steps[f.step - 1])}: ${f.message}`,
  );
  expect(
    report.ok,
    `seed ${seed} (${scenario.description}) failed; reproduce with: ${reproduce}\n${failures.join('\n')}`,
  ).toBe(true);
}

describe('convergence fuzzer', () => {
  for (const seed of PINNED_SEEDS) {
    it(`[SM-7][SY-6] pinned seed ${seed} converges`, () => check(seed), 120_000);
  }

  it(`[SM-7] ${RUNS} random timelines converge (seeds ${BASE}..${BASE + RUNS - 1})`, async () => {
    for (let i = 0; i < RUNS; i += 1) await check(BASE + i);
  }, 900_000);
});
