/**
 * The Conversion Lab (SPEC LB-6, LB-10): pick a bundled scenario file or paste one, edit it in a form
 * or as JSON (both edit the same text) with live validation against the scenario schema (each problem
 * at its path), run it under all five strategies with the server's simulator, and read the differences
 * table.
 */
import { Button, Group, SegmentedControl, Select, Stack, Table, Text, Textarea, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import type { LabStrategyRun } from '../../../../../shared/protocol/lab.ts';
import { ScenarioSchema, type Scenario } from '../../../../../shared/protocol/scenario.ts';
import { labTable, verdict } from './lab-table.ts';
import { LabProgress } from './LabProgress.tsx';
import { LabStrategyDetail } from './LabStrategyDetail.tsx';
import { readDraft, scenarioProblems } from './scenario-form.ts';
import { ScenarioForm } from './ScenarioForm.tsx';
import { useLabJob } from './useLabJob.ts';

/** The scenario files of scenarios/, bundled at build time (they are the documented examples). */
const EXAMPLES = Object.entries(
  import.meta.glob<string>('../../../../../scenarios/*.json', {
    eager: true,
    query: '?raw',
    import: 'default',
  }),
)
  .map(([file, text]) => ({ file: file.split('/').at(-1) ?? file, text }))
  .sort((a, b) => a.file.localeCompare(b.file));

type Checked =
  | { readonly ok: true; readonly scenario: Scenario }
  | { readonly ok: false; readonly problems: readonly string[] };

function check(text: string): Checked {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`not JSON: ${(error as Error).message}`] };
  }
  const parsed = ScenarioSchema.safeParse(json);
  if (parsed.success) return { ok: true, scenario: parsed.data };
  return {
    ok: false,
    problems: scenarioProblems(json).map((p) => `${p.path || '(the file)'}: ${p.message}`),
  };
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function LabPage() {
  const [example, setExample] = useState(EXAMPLES[0]?.file ?? '');
  const [text, setText] = useState(EXAMPLES[0]?.text ?? '');
  const lab = useLabJob();
  const run = lab.state;
  const busy = run.status === 'starting' || run.status === 'running';
  const [view, setView] = useState<'form' | 'json'>('json');
  const checked = useMemo(() => check(text), [text]);
  const draft = useMemo(() => readDraft(text), [text]);

  return (
    <Stack gap="md">
      <Title order={2}>Conversion Lab</Title>
      <Text size="sm">
        Write a timeline of devices as a scenario file (see docs/scenarios.md), run it under every strategy
        with the same simulator as <code>npm run simulate</code>, and see which steps come out differently.
        Each run has a server of its own; this workspace is not touched.
      </Text>
      <Select
        label="Example"
        data={EXAMPLES.map((e) => e.file)}
        value={example}
        allowDeselect={false}
        onChange={(file) => {
          const found = EXAMPLES.find((e) => e.file === file);
          if (found === undefined) return;
          setExample(found.file);
          setText(found.text);
          lab.reset();
        }}
      />
      <SegmentedControl
        aria-label="Editor"
        data={[
          { value: 'form', label: 'Form' },
          { value: 'json', label: 'JSON' },
        ]}
        value={view}
        onChange={(value) => setView(value === 'json' ? 'json' : 'form')}
      />
      {view === 'json' ? (
        <Textarea
          label="Scenario JSON"
          value={text}
          onChange={(event) => setText(event.currentTarget.value)}
          autosize
          minRows={12}
          maxRows={24}
          spellCheck={false}
          styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: '0.8rem' } }}
          aria-describedby="lab-validation"
          {...(checked.ok ? {} : { 'aria-invalid': true })}
        />
      ) : draft === null ? (
        <Text size="sm">The file is not a JSON object; fix it in the JSON editor to use the form.</Text>
      ) : (
        <ScenarioForm draft={draft} onChange={setText} />
      )}
      <div id="lab-validation" aria-live="polite">
        {checked.ok ? (
          <Text size="sm" c="teal.9">
            Valid scenario: {count(checked.scenario.steps.length, 'step')},{' '}
            {count(Object.keys(checked.scenario.devices).length, 'device')}.
          </Text>
        ) : (
          <Stack gap={2}>
            <Text size="sm" c="var(--mantine-color-error)" fw={700}>
              The scenario is not valid:
            </Text>
            <ul className="lab-problems">
              {checked.problems.slice(0, 10).map((problem) => (
                <li key={problem}>
                  <Text size="sm" c="var(--mantine-color-error)" className="admin-break">
                    {problem}
                  </Text>
                </li>
              ))}
            </ul>
          </Stack>
        )}
      </div>
      <Group>
        <Button disabled={!checked.ok || busy} onClick={() => checked.ok && lab.start(checked.scenario)}>
          Run under all five strategies
        </Button>
      </Group>
      <LabProgress state={run} onCancel={lab.cancel} />
      {run.status === 'done' ? (
        <>
          <LabResults runs={run.runs} />
          <LabStrategyDetail scenario={run.scenario} runs={run.runs} />
        </>
      ) : null}
    </Stack>
  );
}

function LabResults({ runs }: { runs: readonly LabStrategyRun[] }) {
  const table = labTable(runs);
  const differing = table.rows.filter((r) => r.differs).length;
  return (
    <section aria-label="Results">
      <Stack gap="sm">
        <Title order={3}>Expectations of the file</Title>
        <ul className="lab-verdicts">
          {runs.map((run) => (
            <li key={run.strategy}>
              <Text size="sm" className="admin-break">
                <strong>{run.strategy}</strong>: {verdict(run)}
              </Text>
            </li>
          ))}
        </ul>
        <Title order={3}>Differences</Title>
        <Text role="status" size="sm">
          {differing === 0
            ? 'Every strategy gave the same outcome at every step.'
            : `${differing} of ${table.rows.length} steps differ between strategies (marked “differs”).`}
        </Text>
        <div className="lab-table-scroll" tabIndex={0} role="region" aria-label="Differences table">
          <Table withTableBorder withColumnBorders striped={false} fz="xs">
            <caption>
              Outcome of each step per strategy. P1, P2… name each run&apos;s profiles in the order they
              appeared.
            </caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Step</Table.Th>
                {table.strategies.map((s) => (
                  <Table.Th key={s} scope="col">
                    {s}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {table.rows.map((row) => (
                <Table.Tr key={row.step} className={row.differs ? 'lab-differs' : undefined}>
                  <Table.Th scope="row">
                    {row.step}. {row.what}
                    {row.differs ? <span className="lab-differs-mark"> · differs</span> : null}
                  </Table.Th>
                  {row.cells.map((cell, i) => (
                    <Table.Td key={table.strategies[i]}>{cell ?? 'not run'}</Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
      </Stack>
    </section>
  );
}
