/**
 * One strategy's run in detail (SPEC LB-7..LB-9): pick a strategy that ran, read its run step by
 * step and its identity graph after any step, and export it as a scenario file.
 */
import { Select, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { LabStrategyRun } from '../../../../../shared/protocol/lab.ts';
import type { Scenario } from '../../../../../shared/protocol/scenario.ts';
import { LabExport } from './LabExport.tsx';
import { LabGraph } from './LabGraph.tsx';
import { LabTimeline } from './LabTimeline.tsx';

type Completed = Extract<LabStrategyRun, { status: 'completed' }>;

export function LabStrategyDetail({
  scenario,
  runs,
}: {
  scenario: Scenario;
  runs: readonly LabStrategyRun[];
}) {
  const completed = runs.filter((r): r is Completed => r.status === 'completed');
  const own = completed.find((r) => r.strategy === scenario.config.strategy) ?? completed[0];
  const [chosen, setChosen] = useState(own?.strategy ?? null);
  const run = completed.find((r) => r.strategy === chosen);
  if (run === undefined) return <Text size="sm">No strategy completed its run.</Text>;
  return (
    <section aria-label="One strategy">
      <Stack gap="sm">
        <Title order={3}>One strategy</Title>
        <Select
          label="Strategy"
          data={completed.map((r) => r.strategy)}
          value={run.strategy}
          allowDeselect={false}
          onChange={(value) => value !== null && setChosen(value)}
        />
        <Title order={4}>Step by step</Title>
        {run.report.timeline === undefined ? (
          <Text size="sm">The simulator gave no timeline for this run.</Text>
        ) : (
          <LabTimeline timeline={run.report.timeline} />
        )}
        {run.report.timeline === undefined ? null : (
          <>
            <Title order={4}>Identity graph</Title>
            <LabGraph timeline={run.report.timeline} />
          </>
        )}
        <Title order={4}>Export as a scenario file</Title>
        <LabExport scenario={scenario} run={run} />
      </Stack>
    </section>
  );
}
