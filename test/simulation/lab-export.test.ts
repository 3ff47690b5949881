/**
 * The Lab's export (SPEC LB-7) against the simulator itself: every scenario file run with its
 * timeline under its own strategy, and the alias file (17) under every strategy, exports a file
 * that passes when run again, with at least as many expectations; one changed expectation makes
 * it fail at that step.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STRATEGIES, type Strategy } from '../../shared/identity/scope-config.ts';
import { scenarioFromRun } from '../../shared/protocol/lab-export.ts';
import { scenarioUnderStrategy, type ScenarioReport } from '../../shared/protocol/lab.ts';
import { ScenarioSchema, type Scenario } from '../../shared/protocol/scenario.ts';
import { runScenario } from '../../simulator/run-scenario.ts';

const folder = path.resolve(import.meta.dirname, '../../scenarios');
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.json'))
  .sort();
const load = (file: string): Scenario =>
  ScenarioSchema.parse(JSON.parse(readFileSync(path.join(folder, file), 'utf8')));
const explain = (report: ScenarioReport) =>
  report.failures.map((f) => `step ${f.step}: ${f.message}`).join('\n');

/** The file run under `strategy` with its timeline, exported, written out as JSON and read back. */
async function exportedRun(
  file: string,
  strategy: Strategy,
): Promise<{ ran: ScenarioReport; file: Scenario }> {
  const adjusted = scenarioUnderStrategy(load(file), strategy);
  if (!adjusted.ok) throw new Error(adjusted.error.message);
  const ran = await runScenario(adjusted.value, { timeline: true });
  const exported = scenarioFromRun(adjusted.value, ran);
  if (!exported.ok) throw new Error(exported.error);
  return { ran, file: ScenarioSchema.parse(JSON.parse(JSON.stringify(exported.value))) };
}

async function expectExportPasses(file: string, strategy: Strategy): Promise<void> {
  const { ran, file: exported } = await exportedRun(file, strategy);
  const again = await runScenario(exported);
  expect(again.ok, explain(again)).toBe(true);
  expect(again.expectations).toBeGreaterThanOrEqual(ran.expectations);
}

describe('a Lab run exported as a scenario file', { timeout: 120_000 }, () => {
  for (const file of files) {
    it(`[LB-7] ${file} under its own strategy: the export passes`, async () => {
      await expectExportPasses(file, load(file).config.strategy);
    });
  }

  for (const file of files.filter((f) => f.startsWith('17-'))) {
    for (const strategy of STRATEGIES.filter((s) => s !== load(file).config.strategy)) {
      it(`[LB-7] ${file} under ${strategy}: the export passes (whatever the file expected)`, async () => {
        await expectExportPasses(file, strategy);
      });
    }
  }

  it('[LB-7] one changed expectation in an export makes it fail at that step', async () => {
    const { file } = await exportedRun(files[0] as string, 'profile_conversion');
    const mutated = structuredClone(file);
    const index = mutated.steps.findIndex((s) => 'expect' in s && s.expect?.created !== undefined);
    const changed = (mutated.steps[index] as { expect: { created: boolean } }).expect;
    changed.created = !changed.created;
    const report = await runScenario(mutated);
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => f.step)).toEqual([index + 1]);
  });
});
