/**
 * Export of one strategy's run as a scenario file (SPEC LB-7): the file with the outcomes the run
 * observed as expectations (`scenarioFromRun`), offered as a download and to copy, and shown so it
 * can be read before it is committed.
 */
import { Button, CopyButton, Group, Stack, Text, Textarea } from '@mantine/core';
import { useMemo } from 'react';
import { scenarioFromRun } from '../../../../../shared/protocol/lab-export.ts';
import { scenarioUnderStrategy, type LabStrategyRun } from '../../../../../shared/protocol/lab.ts';
import type { Scenario } from '../../../../../shared/protocol/scenario.ts';

type Completed = Extract<LabStrategyRun, { status: 'completed' }>;

/** Words of a file name at most, so a long scenario name gives a name one can type. */
const NAME_WORDS = 6;

/** A file name from the scenario's name and the strategy: its first words, lower case, joined by dashes. */
function exportFileName(scenario: Scenario, strategy: string): string {
  const words = scenario.name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '')
    .slice(0, NAME_WORDS);
  return `${words.length === 0 ? 'scenario' : words.join('-')}-${strategy.replaceAll('_', '-')}.json`;
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function LabExport({ scenario, run }: { scenario: Scenario; run: Completed }) {
  const exported = useMemo(() => {
    const ran = scenarioUnderStrategy(scenario, run.strategy);
    if (!ran.ok) return null;
    const file = scenarioFromRun(ran.value, run.report);
    return file.ok ? `${JSON.stringify(file.value, null, 2)}\n` : file.error;
  }, [scenario, run]);
  if (exported === null || exported === 'no_timeline')
    return <Text size="sm">This run cannot be exported: the simulator gave no timeline for it.</Text>;
  if (exported === 'timeline_mismatch')
    return <Text size="sm">This run cannot be exported: it stopped before its last step.</Text>;
  const name = exportFileName(scenario, run.strategy);
  return (
    <Stack gap="xs">
      <Text size="sm">
        The steps of this run with what it observed as expectations: commit the file and{' '}
        <code>npm run simulate -- {name}</code> passes while {run.strategy} behaves the same way.
      </Text>
      <Group gap="sm">
        <Button onClick={() => download(name, exported)}>Download scenario file</Button>
        <CopyButton value={exported}>
          {({ copied, copy }) => (
            <Button variant="default" onClick={copy}>
              {copied ? 'Scenario copied' : 'Copy scenario JSON'}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Textarea
        label={`Exported scenario (${name})`}
        value={exported}
        readOnly
        autosize
        minRows={4}
        maxRows={12}
        spellCheck={false}
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: '0.8rem' } }}
      />
    </Stack>
  );
}
