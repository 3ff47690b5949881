/**
 * Every scenario file in scenarios/ (SPEC SM-1..SM-6) runs on simulated devices against a real
 * in-process server and must hold; a scenario with a wrong expectation must fail with a message
 * that says which step and what differed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario, type ScenarioReport } from '../../simulator/run-scenario.ts';
import { ScenarioSchema, type Scenario } from '../../shared/protocol/scenario.ts';

const folder = path.resolve(import.meta.dirname, '../../scenarios');
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.json'))
  .sort();

function load(file: string): Scenario {
  return ScenarioSchema.parse(JSON.parse(readFileSync(path.join(folder, file), 'utf8')));
}

function explain(report: ScenarioReport): string {
  return report.failures.map((f) => `step ${f.step}: ${f.message}`).join('\n');
}

describe('scenario files', () => {
  it('[SM-1] there are at least fifteen, covering every strategy', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    const strategies = new Set(files.map((f) => load(f).config.strategy));
    expect([...strategies].sort()).toEqual([
      'best_match',
      'default',
      'profile_conversion',
      'profile_isolation',
      'profile_link',
    ]);
  });

  for (const file of files) {
    const scenario = load(file);
    const rules = ['SM-2', 'SM-4', 'SM-5', 'SM-6', ...scenario.rules].map((r) => `[${r}]`).join('');
    it(`${rules} ${file}: ${scenario.name}`, async () => {
      const report = await runScenario(scenario);
      expect(report.expectations).toBeGreaterThan(0);
      expect(report.ok, explain(report)).toBe(true);
    });
  }

  it('[SM-3] a wrong expectation fails and names the step and the difference', async () => {
    const scenario = load(files.find((f) => f.startsWith('02-')) as string);
    const steps = scenario.steps.map((step) =>
      step.do === 'login' && step.device === 'b' ? { ...step, afterSync: { mpid: '@bVisitor' } } : step,
    );
    const report = await runScenario({ ...scenario, steps });
    expect(report.ok).toBe(false);
    const loginStep = steps.findIndex((s) => s.do === 'login' && s.device === 'b') + 1;
    expect(report.failures).toContainEqual({
      step: loginStep,
      message: expect.stringMatching(/^after sync, b: expected @bVisitor \(\d+\), got \d+$/),
    });
  });

  it('[SM-3] an invalid scenario is refused with the path of each problem', () => {
    const parsed = ScenarioSchema.safeParse({
      name: 'bad',
      config: load(files[0] as string).config,
      devices: { a: {} },
      steps: [
        { device: 'z', do: 'identify' },
        { do: 'expect', profiles: [{ mpid: 'nolabel' }] },
      ],
    });
    expect(parsed.success).toBe(false);
    const issues = parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues).toContain('steps.0: unknown device "z"');
    expect(issues.some((i) => i.startsWith('steps.1'))).toBe(true);
  });
});
