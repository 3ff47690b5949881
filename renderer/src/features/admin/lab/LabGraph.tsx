/**
 * The identity graph after a chosen step of one strategy's run (SPEC LB-9), drawn with the admin
 * console's graph view (the same picture, legend and text list as a person's graph).
 */
import { Select, Stack, Text } from '@mantine/core';
import { lazy, Suspense, useState } from 'react';
import { graphAfterStep } from '../../../../../shared/protocol/lab-graph.ts';
import type { TimelineStep } from '../../../../../shared/protocol/lab.ts';
import { GraphAsText, Legend } from '../ProfileGraphSection.tsx';

const GraphCanvas = lazy(() => import('../GraphCanvas.tsx'));

const profiles = (n: number) => `${n} profile${n === 1 ? '' : 's'}`;

export function LabGraph({ timeline }: { timeline: readonly TimelineStep[] }) {
  const [chosen, setChosen] = useState(String(timeline.length));
  const step = timeline[Number(chosen) - 1] ?? timeline.at(-1);
  const graph = step === undefined ? null : graphAfterStep(step);
  return (
    <Stack gap="xs">
      <Select
        label="Identity graph after step"
        data={timeline.map((s) => ({
          value: String(s.step),
          label: `${s.step}. ${s.device === null ? s.do : `${s.device}: ${s.do}`}`,
        }))}
        value={chosen}
        allowDeselect={false}
        onChange={(value) => value !== null && setChosen(value)}
      />
      {graph === null ? (
        <Text size="sm" role="status">
          The server was down after this step, so there is no graph to show.
        </Text>
      ) : (
        <>
          <Text size="sm" role="status">
            {profiles(graph.nodes.filter((n) => n.kind === 'profile').length)} on the server after step{' '}
            {chosen}.
          </Text>
          <Legend />
          <Suspense
            fallback={
              <Text role="status" size="sm">
                Drawing the graph…
              </Text>
            }
          >
            <GraphCanvas graph={graph} onOpenProfile={() => undefined} />
          </Suspense>
          <GraphAsText graph={graph} />
        </>
      )}
    </Stack>
  );
}
