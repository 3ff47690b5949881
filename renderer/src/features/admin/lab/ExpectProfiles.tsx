/**
 * The profile checks of an expect step (SPEC LB-16): per profile its MPID label, identities as type
 * and values rows, its events in order and whether it is orphaned. Attributes are kept exactly as
 * written and edited in the JSON editor. Each edit writes only the field typed.
 */
import { Button, Group, Paper, Stack, Text, TextInput } from '@mantine/core';
import { OptionalBoolean, OptionalList } from './OptionalFields.tsx';
import {
  errorAt,
  errorUnder,
  isObject,
  nextType,
  word,
  type JsonObject,
  type Problems,
  type SetField,
  type ShownPaths,
} from './scenario-form.ts';
import { FieldError, RemoveRowButton } from './RowControls.tsx';

function profilesOf(step: JsonObject): readonly unknown[] {
  return Array.isArray(step['profiles']) ? step['profiles'] : [];
}

interface ExpectProfilesProps {
  step: JsonObject;
  n: number;
  path: string;
  problems: Problems;
  set: SetField;
}

export function ExpectProfiles({ step, n, path, problems, set }: ExpectProfilesProps) {
  const profiles = profilesOf(step);
  return (
    <Stack gap={4} role="group" aria-label={`Step ${n} profiles`}>
      {profiles.map((profile, i) => (
        <ProfileCheck
          key={i}
          profile={isObject(profile) ? profile : {}}
          n={n}
          i={i}
          path={`${path}.profiles[${i}]`}
          problems={problems}
          set={(p, value) => set(['profiles', i, ...p], value)}
          remove={() =>
            set(
              ['profiles'],
              profiles.filter((_, j) => j !== i),
            )
          }
        />
      ))}
      <FieldError message={errorAt(problems, `${path}.profiles`)} />
      <Group>
        <Button
          variant="light"
          size="compact-sm"
          aria-label={`Add profile check to step ${n}`}
          onClick={() => set(['profiles'], [...profiles, { mpid: '' }])}
        >
          Add profile check
        </Button>
      </Group>
    </Stack>
  );
}

interface ProfileCheckProps {
  profile: JsonObject;
  n: number;
  i: number;
  path: string;
  problems: Problems;
  set: SetField;
  remove: () => void;
}

function ProfileCheck({ profile, n, i, path, problems, set, remove }: ProfileCheckProps) {
  const name = `Step ${n} profile ${i + 1}`;
  const identities = isObject(profile['identities']) ? profile['identities'] : undefined;
  const rows = Object.entries(identities ?? {});
  /** Renames one type keeping every value and the order as written. */
  const rename = (k: number, type: string) =>
    set(['identities'], Object.fromEntries(rows.map(([t, v], j) => (j === k ? [type, v] : [t, v]))));
  return (
    <Paper withBorder p="xs" role="group" aria-label={name}>
      <Stack gap={4}>
        <Group justify="space-between" align="flex-start" wrap="nowrap">
          <TextInput
            label={`${name} MPID label`}
            value={word(profile['mpid'])}
            onChange={(e) => set(['mpid'], e.currentTarget.value)}
            error={errorAt(problems, `${path}.mpid`)}
            style={{ flex: '1 1 8rem' }}
          />
          <RemoveRowButton label={`Remove profile ${i + 1} of step ${n}`} onClick={remove} />
        </Group>
        {rows.map(([type, values], k) => (
          <Group key={k} gap="xs" align="flex-start" wrap="wrap">
            <TextInput
              label={`${name} identity ${k + 1} type`}
              value={type}
              onChange={(e) => rename(k, e.currentTarget.value)}
              style={{ flex: '1 1 8rem' }}
            />
            <div style={{ flex: '1 1 8rem' }}>
              <OptionalList
                label={`${name} identity ${k + 1} values`}
                description="comma-separated"
                value={values}
                error={errorUnder(problems, `${path}.identities.${type}`)}
                write={(list) => set(['identities', type], list ?? [])}
              />
            </div>
            <RemoveRowButton
              label={`Remove identity ${k + 1} of profile ${i + 1} of step ${n}`}
              onClick={() => set(['identities'], Object.fromEntries(rows.filter((_, j) => j !== k)))}
            />
          </Group>
        ))}
        <FieldError message={errorAt(problems, `${path}.identities`)} />
        <Group>
          <Button
            variant="light"
            size="compact-sm"
            aria-label={`Add identity to profile ${i + 1} of step ${n}`}
            onClick={() => set(['identities'], { ...identities, [nextType(rows.map(([t]) => t))]: [] })}
          >
            Add identity
          </Button>
        </Group>
        <OptionalList
          label={`${name} events`}
          value={profile['events']}
          error={errorUnder(problems, `${path}.events`)}
          write={(list) => set(['events'], list)}
        />
        <OptionalBoolean
          label={`${name} orphaned`}
          value={profile['orphaned']}
          error={errorAt(problems, `${path}.orphaned`)}
          write={(value) => set(['orphaned'], value)}
        />
        {profile['attributes'] === undefined ? null : (
          <Text size="sm" c="dimmed">
            Attribute checks are kept as written; edit them in the JSON editor.
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

/** Problem paths the profile checks show beside their fields (the rest are listed under the step). */
export function profileShownPaths(step: JsonObject, path: string): ShownPaths {
  const profiles = profilesOf(step);
  return {
    exact: [`${path}.profiles`, ...profiles.map((_, i) => `${path}.profiles[${i}].identities`)],
    under: profiles.flatMap((profile, i) => {
      const at = `${path}.profiles[${i}]`;
      const identities = isObject(profile) && isObject(profile['identities']) ? profile['identities'] : {};
      return [
        `${at}.mpid`,
        `${at}.events`,
        `${at}.orphaned`,
        ...Object.keys(identities).map((type) => `${at}.identities.${type}`),
      ];
    }),
  };
}
