/**
 * The Lab's form editor (SPEC LB-10): name, description, strategy and the steps of the scenario file,
 * each problem of the schema beside its field. It edits the same JSON text as the JSON editor.
 */
import {
  ActionIcon,
  Button,
  Group,
  Paper,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { STRATEGIES } from '../../../../../shared/identity/scope-config.ts';
import { ExpectFields, expectShownPaths } from './ExpectFields.tsx';
import { ModifyChanges, modifyShownPaths } from './ModifyChanges.tsx';
import {
  ADDABLE_KINDS,
  addStep,
  deviceNames,
  errorAt,
  errorUnder,
  identityRows,
  isObject,
  isUnder,
  moveStep,
  nextType,
  problemsByPath,
  readInteger,
  removeStep,
  rowsToIdentities,
  setAt,
  stepInWords,
  stepsOf,
  word,
  writeDraft,
  type AddableKind,
  type JsonObject,
  type Problems,
  type SetField,
  type ShownPaths,
} from './scenario-form.ts';
import { FieldError, RemoveRowButton } from './RowControls.tsx';

const IDENTITY_KINDS = ['identify', 'login', 'logout'];

export function ScenarioForm({ draft, onChange }: { draft: JsonObject; onChange: (text: string) => void }) {
  const problems = problemsByPath(draft);
  /** The draft and callback of the last render: the step cards' handlers stay the same objects. */
  const latest = useRef({ draft, onChange });
  useLayoutEffect(() => {
    latest.current = { draft, onChange };
  });
  /** After a move, the same button of the moved step takes the focus, so moves can be repeated. */
  const focusAfterMove = useRef<string | null>(null);
  const edit = useMemo<StepEdits>(() => {
    const change = (next: unknown) => {
      if (isObject(next)) latest.current.onChange(writeDraft(next));
    };
    return {
      change,
      set: (path, value) => change(setAt(latest.current.draft, path, value)),
      move: (index, delta) => {
        focusAfterMove.current = `Move step ${index + 1 + delta} ${delta < 0 ? 'up' : 'down'}`;
        change(moveStep(latest.current.draft, index, delta));
      },
      remove: (index) => change(removeStep(latest.current.draft, index)),
    };
  }, []);
  const devices = deviceNames(draft);
  const steps = stepsOf(draft);
  const form = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const label = focusAfterMove.current;
    focusAfterMove.current = null;
    if (label === null) return;
    const button = form.current?.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`);
    if (button !== null && button !== undefined && !button.disabled) button.focus();
  }, [draft]);
  const config = isObject(draft['config']) ? draft['config'] : {};

  return (
    <Stack gap="sm" aria-label="Scenario form" role="group" ref={form}>
      <TextInput
        label="Name"
        value={typeof draft['name'] === 'string' ? draft['name'] : ''}
        onChange={(e) => edit.set(['name'], e.currentTarget.value)}
        error={errorAt(problems, 'name')}
      />
      <Textarea
        label="Description"
        value={typeof draft['description'] === 'string' ? draft['description'] : ''}
        onChange={(e) => edit.set(['description'], e.currentTarget.value)}
        error={errorAt(problems, 'description')}
        autosize
        minRows={2}
      />
      <Select
        label="Strategy"
        data={[...STRATEGIES]}
        value={typeof config['strategy'] === 'string' ? config['strategy'] : null}
        allowDeselect={false}
        onChange={(strategy) => strategy !== null && edit.set(['config', 'strategy'], strategy)}
        error={errorUnder(problems, 'config')}
      />
      <Title order={3}>Steps</Title>
      <FieldError message={errorAt(problems, 'steps')} />
      <ol className="lab-form-steps">
        {steps.map((step, index) => (
          <li key={index}>
            <MemoStepCard
              step={step}
              index={index}
              count={steps.length}
              devices={devices}
              problems={problems}
              edit={edit}
            />
          </li>
        ))}
      </ol>
      <AddStep devices={devices} add={(kind, device) => edit.change(addStep(draft, kind, device))} />
    </Stack>
  );
}

/** What a step card may do to the scenario; always the latest draft, so the object never changes. */
interface StepEdits {
  change(next: unknown): void;
  set(path: readonly (string | number)[], value: unknown): void;
  move(index: number, delta: -1 | 1): void;
  remove(index: number): void;
}

interface StepCardProps {
  step: unknown;
  index: number;
  count: number;
  devices: readonly string[];
  problems: Problems;
  edit: StepEdits;
}

/**
 * A typed key in one field re-parses the whole scenario, so every step arrives as a new object: a
 * card renders again only when its own step, place, devices or problems read differently.
 */
const MemoStepCard = memo(StepCard, (a, b) => {
  const path = `steps[${a.index}]`;
  const own = (problems: Problems) => JSON.stringify([...problems].filter(([p]) => isUnder(p, path)));
  return (
    a.index === b.index &&
    a.count === b.count &&
    a.edit === b.edit &&
    a.devices.join('\n') === b.devices.join('\n') &&
    JSON.stringify(a.step) === JSON.stringify(b.step) &&
    own(a.problems) === own(b.problems)
  );
});

function StepCard({ step, index, count, devices, problems, edit }: StepCardProps) {
  const n = index + 1;
  const path = `steps[${index}]`;
  const set: SetField = (field, value) => edit.set(['steps', index, ...field], value);
  const move = (delta: -1 | 1) => edit.move(index, delta);
  const remove = () => edit.remove(index);
  const object = isObject(step) ? step : {};
  const kind = typeof object['do'] === 'string' ? object['do'] : '';
  const fields = new Set(
    [
      'device',
      ...FIELD_KINDS.flatMap(({ fields }) => fields.map((f) => f.key)),
      'identities',
      ...identityRows(object).map(([type]) => `identities.${type}`),
    ].map((field) => `${path}.${field}`),
  );
  const shown = kindShownPaths(kind, object, path);
  for (const exact of shown.exact) fields.add(exact);
  const stepProblems = [...problems]
    .filter(([p]) => isUnder(p, path) && !fields.has(p) && !shown.under.some((u) => isUnder(p, u)))
    .flatMap(([, messages]) => messages);
  return (
    <Paper withBorder p="xs" component="section" aria-label={`Step ${n}`}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Text size="sm" fw={600} className="admin-break">
            {n}. {stepInWords(step)}
          </Text>
          <Group gap={4} wrap="nowrap">
            <ActionIcon
              variant="default"
              aria-label={`Move step ${n} up`}
              disabled={index === 0}
              onClick={() => move(-1)}
            >
              ↑
            </ActionIcon>
            <ActionIcon
              variant="default"
              aria-label={`Move step ${n} down`}
              disabled={index === count - 1}
              onClick={() => move(1)}
            >
              ↓
            </ActionIcon>
            <ActionIcon variant="default" color="red" aria-label={`Remove step ${n}`} onClick={remove}>
              ✕
            </ActionIcon>
          </Group>
        </Group>
        {typeof object['device'] === 'string' ? (
          <Select
            label={`Step ${n} device`}
            data={devices.includes(object['device']) ? [...devices] : [...devices, object['device']]}
            value={object['device']}
            allowDeselect={false}
            onChange={(device) => device !== null && set(['device'], device)}
            error={errorAt(problems, `${path}.device`)}
          />
        ) : null}
        {IDENTITY_KINDS.includes(kind) ? (
          <IdentityRows step={object} n={n} path={path} problems={problems} set={set} />
        ) : null}
        {kind === 'modify' ? (
          <ModifyChanges step={object} n={n} path={path} problems={problems} set={set} />
        ) : null}
        {kind === 'expect' ? (
          <ExpectFields step={object} n={n} path={path} devices={devices} problems={problems} set={set} />
        ) : null}
        {(FIELD_KINDS.find((k) => k.kind === kind)?.fields ?? []).map((field) => (
          <StepField
            key={field.key}
            field={field}
            step={object}
            n={n}
            path={path}
            problems={problems}
            set={set}
          />
        ))}
        {stepProblems.length === 0 ? null : (
          <Text size="sm" c="var(--mantine-color-error)" className="admin-break">
            {stepProblems.join('; ')}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

/** Problem paths the modify and expect forms show beside their own fields. */
function kindShownPaths(kind: string, step: JsonObject, path: string): ShownPaths {
  if (kind === 'modify') return modifyShownPaths(step, path);
  if (kind === 'expect') return expectShownPaths(step, path);
  return { exact: [], under: [] };
}

/** A step field the form edits: text, a whole number of ms, or one of a few choices. */
interface FieldSpec {
  readonly key: string;
  readonly label: string;
  readonly type: 'text' | 'integer' | 'choice';
  readonly choices?: readonly string[];
}

/** The fields of each step kind beyond its device (identity steps have their rows instead). */
const FIELD_KINDS: readonly { kind: string; fields: readonly FieldSpec[] }[] = [
  { kind: 'track', fields: [{ key: 'event', label: 'event', type: 'text' }] },
  {
    kind: 'attribute',
    fields: [
      { key: 'key', label: 'attribute', type: 'text' },
      { key: 'value', label: 'value', type: 'text' },
    ],
  },
  {
    kind: 'alias',
    fields: [
      { key: 'source', label: 'source label', type: 'text' },
      { key: 'destination', label: 'destination label', type: 'text' },
    ],
  },
  {
    kind: 'server',
    fields: [{ key: 'action', label: 'action', type: 'choice', choices: ['stop', 'start', 'restart'] }],
  },
  { kind: 'advance', fields: [{ key: 'ms', label: 'milliseconds', type: 'integer' }] },
];

interface StepFieldProps {
  field: FieldSpec;
  step: JsonObject;
  n: number;
  path: string;
  problems: Problems;
  set: SetField;
}

/**
 * One field of a step. A whole number is written as a number when it reads as one and as the text
 * typed otherwise, so the schema's problem shows beside the field instead of the edit being lost.
 */
function StepField({ field, step, n, path, problems, set }: StepFieldProps) {
  const raw = step[field.key];
  const value = word(raw);
  const label = `Step ${n} ${field.label}`;
  const error = errorAt(problems, `${path}.${field.key}`);
  if (field.type === 'choice') {
    return (
      <Select
        label={label}
        data={[...(field.choices ?? [])]}
        value={value === '' ? null : value}
        allowDeselect={false}
        onChange={(choice) => choice !== null && set([field.key], choice)}
        error={error}
      />
    );
  }
  return (
    <TextInput
      label={label}
      value={value}
      inputMode={field.type === 'integer' ? 'numeric' : undefined}
      onChange={(e) => {
        const text = e.currentTarget.value;
        set([field.key], field.type === 'integer' ? (readInteger(text) ?? text) : text);
      }}
      error={error}
    />
  );
}

interface IdentityRowsProps {
  step: JsonObject;
  n: number;
  path: string;
  problems: Problems;
  set: SetField;
}

function IdentityRows({ step, n, path, problems, set }: IdentityRowsProps) {
  const rows = identityRows(step);
  const write = (next: readonly (readonly [string, string])[]) => set(['identities'], rowsToIdentities(next));
  return (
    <Stack gap={4} role="group" aria-label={`Step ${n} identities`}>
      {rows.map(([type, value], i) => (
        <Group key={i} gap="xs" align="flex-start" wrap="wrap">
          <TextInput
            label={`Step ${n} identity ${i + 1} type`}
            value={type}
            onChange={(e) => write(rows.map((r, j) => (j === i ? [e.currentTarget.value, r[1]] : r)))}
            style={{ flex: '1 1 8rem' }}
          />
          <TextInput
            label={`Step ${n} identity ${i + 1} value`}
            value={value}
            onChange={(e) => write(rows.map((r, j) => (j === i ? [r[0], e.currentTarget.value] : r)))}
            error={errorAt(problems, `${path}.identities.${type}`)}
            style={{ flex: '1 1 8rem' }}
          />
          <RemoveRowButton
            label={`Remove identity ${i + 1} of step ${n}`}
            onClick={() => write(rows.filter((_, j) => j !== i))}
          />
        </Group>
      ))}
      <FieldError message={errorAt(problems, `${path}.identities`)} />
      <Group>
        <Button
          variant="light"
          size="compact-sm"
          onClick={() => write([...rows, [nextType(rows.map(([t]) => t)), '']])}
        >
          Add identity to step {n}
        </Button>
      </Group>
    </Stack>
  );
}

function AddStep({
  devices,
  add,
}: {
  devices: readonly string[];
  add: (kind: AddableKind, device: string) => void;
}) {
  const [kind, setKind] = useState<AddableKind>('identify');
  const [device, setDevice] = useState<string | null>(devices[0] ?? null);
  const chosen = device !== null && devices.includes(device) ? device : (devices[0] ?? '');
  return (
    <Group align="flex-end" wrap="wrap" gap="xs">
      <Select
        label="New step kind"
        data={[...ADDABLE_KINDS]}
        value={kind}
        allowDeselect={false}
        onChange={(k) => {
          const found = ADDABLE_KINDS.find((known) => known === k);
          if (found !== undefined) setKind(found);
        }}
        style={{ flex: '1 1 8rem' }}
      />
      <Select
        label="New step device"
        data={[...devices]}
        value={chosen === '' ? null : chosen}
        allowDeselect={false}
        onChange={setDevice}
        style={{ flex: '1 1 8rem' }}
      />
      <Button onClick={() => add(kind, chosen)}>Add step</Button>
    </Group>
  );
}
