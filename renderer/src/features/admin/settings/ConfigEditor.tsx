import { Checkbox, Fieldset, NumberInput, Radio, Select, Stack, Switch, Text, Textarea } from '@mantine/core';
import { useState } from 'react';
import { IDENTITY_TYPES, type IdentityType } from '../../../../../shared/identity/identity-types.ts';
import { NORMALISATION_STEPS, type NormalisationStep } from '../../../../../shared/identity/normalise.ts';
import { STRATEGIES, type ScopeConfig, StrategySchema } from '../../../../../shared/identity/scope-config.ts';
import { identityLabel } from '../../../identity/identity-labels.ts';
import {
  linesToList,
  NORMALISATION_WORDS,
  STRATEGY_WORDS,
  typesNotInPriority,
  type ConfigField,
  type ConfigProblems,
} from './config-editor.ts';
import { PriorityList } from './PriorityList.tsx';

interface ConfigEditorProps {
  readonly config: ScopeConfig;
  readonly problems: ConfigProblems;
  readonly onChange: (config: ScopeConfig) => void;
}

/** The workspace's config as a form; each broken rule is said in words beside its part (AC-20, AC-21). */
export function ConfigEditor({ config, problems, onChange }: ConfigEditorProps) {
  return (
    <Stack gap="lg">
      <Fieldset legend="Strategy">
        <Radio.Group
          value={config.strategy}
          onChange={(value) => {
            const strategy = StrategySchema.safeParse(value);
            if (strategy.success) onChange({ ...config, strategy: strategy.data });
          }}
          aria-label="Strategy"
        >
          <Stack gap="sm">
            {STRATEGIES.map((strategy) => (
              <Radio
                key={strategy}
                value={strategy}
                label={STRATEGY_WORDS[strategy].label}
                description={STRATEGY_WORDS[strategy].explained}
              />
            ))}
          </Stack>
        </Radio.Group>
        <Problems problems={problems} fields={['strategy']} />
      </Fieldset>

      <Fieldset legend="Identity priority and flags">
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            Highest first: the first type a request carries decides which profile it is matched to. Drag a
            row, use its arrows, or focus its handle and press the arrow keys. Login identities log people in;
            unique ones belong to one profile only; immutable ones never change once set.
          </Text>
          <PriorityList config={config} onChange={onChange} />
          <AddType
            label="Add an identity type to the priority"
            types={typesNotInPriority(config)}
            onAdd={(type) => onChange({ ...config, identityPriority: [...config.identityPriority, type] })}
          />
          <Problems
            problems={problems}
            fields={['identityPriority', 'loginIdentities', 'uniqueIdentities', 'immutableIdentities']}
          />
        </Stack>
      </Fieldset>

      <Fieldset legend="Normalisation">
        <NormalisationFields config={config} onChange={onChange} />
        <Problems problems={problems} fields={['normalisation']} />
      </Fieldset>

      <Fieldset legend="Blocked values">
        <BlockedValuesFields config={config} onChange={onChange} />
        <Problems problems={problems} fields={['blockedValues']} />
      </Fieldset>

      <Fieldset legend="Aliasing">
        <Stack gap="sm">
          <Switch
            label="Aliasing is on"
            checked={config.aliasing.enabled}
            onChange={(e) =>
              onChange({ ...config, aliasing: { ...config.aliasing, enabled: e.currentTarget.checked } })
            }
          />
          <NumberInput
            label="Alias window (days)"
            description="How far back an alias may copy a profile's data."
            value={config.aliasing.maxWindowDays}
            allowDecimal={false}
            onChange={(value) =>
              onChange({ ...config, aliasing: { ...config.aliasing, maxWindowDays: Number(value) } })
            }
            maw="14rem"
          />
          <Switch
            label="Alias automatically when a profile-link login joins an anonymous profile"
            checked={config.aliasing.autoAliasOnLinkLogin}
            onChange={(e) =>
              onChange({
                ...config,
                aliasing: { ...config.aliasing, autoAliasOnLinkLogin: e.currentTarget.checked },
              })
            }
          />
        </Stack>
        <Problems problems={problems} fields={['aliasing']} />
      </Fieldset>

      <Fieldset legend="Device sync">
        <Radio.Group
          aria-label="Device sync"
          value={config.deviceSync}
          onChange={(value) =>
            onChange({ ...config, deviceSync: value === 'after_login' ? 'after_login' : 'always' })
          }
        >
          <Stack gap="sm">
            <Radio
              value="always"
              label="Whenever online"
              description="Devices send their requests as soon as they can."
            />
            <Radio
              value="after_login"
              label="Only after a login"
              description="A device keeps its requests until someone has logged in on it, then sends them."
            />
          </Stack>
        </Radio.Group>
        <Problems problems={problems} fields={['deviceSync', 'other']} />
      </Fieldset>
    </Stack>
  );
}

/** The rules broken in these fields, in words, announced as they appear and go. */
function Problems({ problems, fields }: { problems: ConfigProblems; fields: readonly ConfigField[] }) {
  const list = fields.flatMap((field) => problems[field] ?? []);
  return (
    <div aria-live="polite">
      {list.length > 0 && (
        <ul className="admin-problems">
          {list.map((problem) => (
            <li key={problem}>
              <Text size="sm" c="var(--mantine-color-error)">
                {problem}
              </Text>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function AddType({
  label,
  types,
  onAdd,
}: {
  label: string;
  types: readonly IdentityType[];
  onAdd: (type: IdentityType) => void;
}) {
  if (types.length === 0) return null;
  return (
    <Select
      label={label}
      placeholder="Choose a type"
      data={types.map((type) => ({ value: type, label: identityLabel(type) }))}
      value={null}
      searchable
      onChange={(value) => {
        const type = types.find((t) => t === value);
        if (type !== undefined) onAdd(type);
      }}
      maw="20rem"
    />
  );
}

function NormalisationFields({
  config,
  onChange,
}: {
  config: ScopeConfig;
  onChange: (c: ScopeConfig) => void;
}) {
  const normalised = IDENTITY_TYPES.filter((t) => config.normalisation[t] !== undefined);
  const setSteps = (type: IdentityType, steps: NormalisationStep[] | undefined) => {
    const normalisation = { ...config.normalisation };
    if (steps === undefined) delete normalisation[type];
    else normalisation[type] = NORMALISATION_STEPS.filter((s) => steps.includes(s));
    onChange({ ...config, normalisation });
  };
  return (
    <Stack gap="sm">
      <Text size="sm" c="dimmed">
        Values of these types are cleaned before they are looked up or stored, so “ Ana@X.com ” and
        “ana@x.com” are one identity.
      </Text>
      {normalised.length === 0 && <Text size="sm">No type is normalised.</Text>}
      {normalised.map((type) => (
        <Checkbox.Group
          key={type}
          label={identityLabel(type)}
          value={[...(config.normalisation[type] ?? [])]}
          onChange={(steps) => setSteps(type, steps)}
        >
          <Stack gap={4} mt={4}>
            {NORMALISATION_STEPS.map((step) => (
              <Checkbox key={step} size="xs" value={step} label={NORMALISATION_WORDS[step]} />
            ))}
          </Stack>
        </Checkbox.Group>
      ))}
      <AddType
        label="Normalise another type"
        types={IDENTITY_TYPES.filter((t) => config.normalisation[t] === undefined)}
        onAdd={(type) => setSteps(type, ['trim'])}
      />
    </Stack>
  );
}

function BlockedValuesFields({
  config,
  onChange,
}: {
  config: ScopeConfig;
  onChange: (c: ScopeConfig) => void;
}) {
  const blocked = config.blockedValues;
  const blocksEmpty = blocked.exact.includes('');
  const [exactText, setExactText] = useState(blocked.exact.filter((v) => v !== '').join('\n'));
  const [patternText, setPatternText] = useState(blocked.patterns.join('\n'));
  return (
    <Stack gap="sm">
      <Text size="sm" c="dimmed">
        A blocked value is dropped from a request and never looked up or stored, so placeholders such as
        “null” or “guest” cannot join unrelated people.
      </Text>
      <Checkbox
        label="Block empty values"
        checked={blocksEmpty}
        onChange={(e) => {
          const rest = blocked.exact.filter((v) => v !== '');
          onChange({
            ...config,
            blockedValues: { ...blocked, exact: e.currentTarget.checked ? ['', ...rest] : rest },
          });
        }}
      />
      <Textarea
        label="Blocked values"
        description="One per line; matched after trimming, in any case."
        autosize
        minRows={3}
        maxRows={10}
        value={exactText}
        onChange={(e) => {
          const text = e.currentTarget.value;
          setExactText(text);
          onChange({
            ...config,
            blockedValues: { ...blocked, exact: [...(blocksEmpty ? [''] : []), ...linesToList(text)] },
          });
        }}
      />
      <Textarea
        label="Blocked patterns"
        description="One regular expression per line, tested against the normalised value."
        autosize
        minRows={2}
        maxRows={8}
        value={patternText}
        onChange={(e) => {
          const text = e.currentTarget.value;
          setPatternText(text);
          onChange({ ...config, blockedValues: { ...blocked, patterns: linesToList(text) } });
        }}
      />
    </Stack>
  );
}
