/**
 * The form of an expect step (SPEC LB-16): its scalar checks (profile count, converged, invariants,
 * absent labels), its profile checks, and per device the current user, pending requests, local
 * events and the people it knows. Notice checks are kept exactly as written and edited in the JSON
 * editor. An emptied field removes its check; nothing else is rewritten.
 */
import { Button, Group, NativeSelect, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { ExpectProfiles, profileShownPaths } from './ExpectProfiles.tsx';
import { OptionalBoolean, OptionalInteger, OptionalList, OptionalText } from './OptionalFields.tsx';
import {
  errorAt,
  errorUnder,
  isObject,
  type JsonObject,
  type Problems,
  type SetField,
  type ShownPaths,
} from './scenario-form.ts';
import { RemoveRowButton } from './RowControls.tsx';

function deviceChecks(step: JsonObject): JsonObject {
  return isObject(step['devices']) ? step['devices'] : {};
}

interface ExpectFieldsProps {
  step: JsonObject;
  n: number;
  path: string;
  devices: readonly string[];
  problems: Problems;
  set: SetField;
}

export function ExpectFields({ step, n, path, devices, problems, set }: ExpectFieldsProps) {
  const checks = deviceChecks(step);
  const unchecked = devices.filter((d) => !(d in checks));
  const [chosen, setChosen] = useState('');
  const toAdd = unchecked.includes(chosen) ? chosen : (unchecked[0] ?? '');
  return (
    <Stack gap="xs">
      <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="xs">
        <OptionalInteger
          label={`Step ${n} profile count`}
          value={step['profileCount']}
          error={errorAt(problems, `${path}.profileCount`)}
          write={(value) => set(['profileCount'], value)}
        />
        <OptionalBoolean
          label={`Step ${n} converged`}
          value={step['converged']}
          error={errorAt(problems, `${path}.converged`)}
          write={(value) => set(['converged'], value)}
        />
        <OptionalBoolean
          label={`Step ${n} invariants`}
          value={step['invariants']}
          error={errorAt(problems, `${path}.invariants`)}
          write={(value) => set(['invariants'], value)}
        />
      </SimpleGrid>
      <OptionalList
        label={`Step ${n} absent labels`}
        value={step['absent']}
        error={errorUnder(problems, `${path}.absent`)}
        write={(value) => set(['absent'], value)}
      />
      <Title order={4}>Profiles</Title>
      <ExpectProfiles step={step} n={n} path={path} problems={problems} set={set} />
      <Title order={4}>Devices</Title>
      {Object.entries(checks).map(([device, check]) => (
        <DeviceCheck
          key={device}
          device={device}
          check={isObject(check) ? check : {}}
          n={n}
          path={`${path}.devices.${device}`}
          problems={problems}
          set={(p, value) => set(['devices', device, ...p], value)}
          remove={() => set(['devices', device], undefined)}
        />
      ))}
      {unchecked.length === 0 ? null : (
        <Group align="flex-end" gap="xs" wrap="wrap">
          <NativeSelect
            label={`Step ${n} device to check`}
            data={unchecked}
            value={toAdd}
            onChange={(e) => setChosen(e.currentTarget.value)}
          />
          <Button
            variant="light"
            size="compact-sm"
            mb={6}
            aria-label={`Add device check to step ${n}`}
            onClick={() => set(['devices', toAdd], {})}
          >
            Add device check
          </Button>
        </Group>
      )}
    </Stack>
  );
}

interface DeviceCheckProps {
  device: string;
  check: JsonObject;
  n: number;
  path: string;
  problems: Problems;
  set: SetField;
  remove: () => void;
}

function DeviceCheck({ device, check, n, path, problems, set, remove }: DeviceCheckProps) {
  const name = `Step ${n} ${device}`;
  return (
    <Paper withBorder p="xs" role="group" aria-label={`${name} checks`}>
      <Stack gap={4}>
        <Group justify="space-between">
          <Text size="sm" fw={600}>
            {device}
          </Text>
          <RemoveRowButton label={`Remove ${device} check of step ${n}`} aligned={false} onClick={remove} />
        </Group>
        <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="xs">
          <OptionalText
            label={`${name} current user`}
            value={check['currentUser']}
            error={errorAt(problems, `${path}.currentUser`)}
            write={(value) => set(['currentUser'], value)}
          />
          <OptionalInteger
            label={`${name} pending`}
            value={check['pending']}
            error={errorAt(problems, `${path}.pending`)}
            write={(value) => set(['pending'], value)}
          />
          <OptionalInteger
            label={`${name} local events`}
            value={check['localEvents']}
            error={errorAt(problems, `${path}.localEvents`)}
            write={(value) => set(['localEvents'], value)}
          />
        </SimpleGrid>
        <OptionalList
          label={`${name} people`}
          value={check['people']}
          error={errorUnder(problems, `${path}.people`)}
          write={(value) => set(['people'], value)}
        />
        {check['notices'] === undefined ? null : (
          <Text size="sm" c="dimmed">
            Notice checks are kept as written; edit them in the JSON editor.
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

/** Problem paths the expect form shows beside its fields (the rest are listed under the step). */
export function expectShownPaths(step: JsonObject, path: string): ShownPaths {
  const profiles = profileShownPaths(step, path);
  const devices = Object.keys(deviceChecks(step)).map((device) => `${path}.devices.${device}`);
  return {
    exact: [
      ...profiles.exact,
      `${path}.profileCount`,
      `${path}.converged`,
      `${path}.invariants`,
      ...devices.flatMap((d) => ['currentUser', 'pending', 'localEvents'].map((key) => `${d}.${key}`)),
    ],
    under: [...profiles.under, `${path}.absent`, ...devices.map((d) => `${d}.people`)],
  };
}
