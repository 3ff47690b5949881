/**
 * Generated timelines (SPEC SM-7): a seeded random scenario for a few devices that work offline,
 * log customers in and out, change identities, record events, restart, and sync in random
 * orders while the server restarts. Expectations are the properties that must hold for any
 * timeline: invariants along the way, and convergence plus a serial replay at the end.
 */
import type { ScopeConfigInput, Strategy } from '../shared/identity/scope-config.ts';
import { seededRandom, type RandomSource } from '../shared/util/random.ts';
import { ScenarioSchema, type Scenario } from '../shared/protocol/scenario.ts';

export interface RandomScenarioOptions {
  readonly seed: number;
  readonly devices: number;
  readonly steps: number;
  /** Include server stop/start steps (in-process servers only). */
  readonly serverFaults: boolean;
  readonly strategy?: Strategy;
}

const CONFIGS: Record<Strategy, Omit<ScopeConfigInput, 'scopeId'>> = {
  profile_conversion: {
    strategy: 'profile_conversion',
    identityPriority: ['customerid', 'email', 'device_application_stamp'],
    loginIdentities: ['customerid'],
    uniqueIdentities: ['customerid'],
  },
  profile_link: {
    strategy: 'profile_link',
    identityPriority: ['customerid', 'email', 'device_application_stamp'],
    loginIdentities: ['customerid', 'email'],
    uniqueIdentities: ['customerid', 'email'],
  },
  profile_isolation: {
    strategy: 'profile_isolation',
    identityPriority: ['customerid', 'email', 'device_application_stamp'],
    loginIdentities: ['customerid', 'email'],
    uniqueIdentities: ['customerid', 'email'],
  },
  default: {
    strategy: 'default',
    identityPriority: ['customerid', 'email', 'device_application_stamp'],
    loginIdentities: ['customerid'],
    uniqueIdentities: ['customerid'],
    immutableIdentities: ['customerid'],
  },
  best_match: {
    strategy: 'best_match',
    identityPriority: ['customerid', 'email', 'device_application_stamp'],
    loginIdentities: [],
    uniqueIdentities: [],
  },
};

const STRATEGY_LIST = Object.keys(CONFIGS) as Strategy[];

function pick<T>(random: RandomSource, items: readonly T[]): T {
  return items[random.nextUint32() % items.length] as T;
}

function chance(random: RandomSource): number {
  return random.nextUint32() / 2 ** 32;
}

/** Builds a timeline; the same options always give the same scenario. */
export function randomScenario(options: RandomScenarioOptions): Scenario {
  const random = seededRandom(options.seed);
  const strategy = options.strategy ?? pick(random, STRATEGY_LIST);
  const names = Array.from({ length: options.devices }, (_, i) => `d${i + 1}`);
  const customers = Array.from({ length: Math.max(2, options.devices + 1) }, (_, i) => `c${i + 1}`);
  const email = (customer: string) => `${customer}@example.com`;
  const online = new Map(names.map((n) => [n, chance(random) < 0.5]));
  const steps: unknown[] = [];
  const mayFail = { mayFail: true };
  for (const name of names) if (online.get(name) !== true) steps.push({ device: name, do: 'offline' });
  let serverUp = true;
  for (let i = 0; i < options.steps; i += 1) {
    const device = pick(random, names);
    const roll = chance(random);
    if (roll < 0.1) steps.push({ device, do: 'identify', expect: mayFail });
    else if (roll < 0.15)
      steps.push({
        device,
        do: 'identify',
        identities: { email: email(pick(random, customers)) },
        expect: mayFail,
      });
    else if (roll < 0.3) {
      const customer = pick(random, customers);
      const identities: Record<string, string> = { customerid: customer };
      if (chance(random) < 0.6)
        identities['email'] = email(chance(random) < 0.8 ? customer : pick(random, customers));
      steps.push({ device, do: 'login', identities, expect: mayFail });
    } else if (roll < 0.37) steps.push({ device, do: 'logout', expect: mayFail });
    else if (roll < 0.43) {
      steps.push({
        device,
        do: 'modify',
        changes: [{ type: 'email', new: `m${random.nextUint32() % 5}@example.com` }],
        expect: mayFail,
      });
    } else if (roll < 0.63) steps.push({ device, do: 'track', event: `e${random.nextUint32() % 4}` });
    else if (roll < 0.67)
      steps.push({
        device,
        do: 'attribute',
        key: `a${random.nextUint32() % 3}`,
        value: random.nextUint32() % 100,
      });
    else if (roll < 0.77) {
      const next = !(online.get(device) ?? true);
      online.set(device, next);
      steps.push({ device, do: next ? 'online' : 'offline' });
    } else if (roll < 0.87) {
      const order = names.filter(() => chance(random) < 0.7).sort(() => chance(random) - 0.5);
      steps.push(order.length === 0 ? { do: 'sync', device } : { do: 'sync', order });
    } else if (roll < 0.9) steps.push({ device, do: 'restart' });
    else if (roll < 0.93 && options.serverFaults) {
      serverUp = !serverUp;
      steps.push({ do: 'server', action: serverUp ? 'start' : 'stop' });
    } else if (roll < 0.96) steps.push({ do: 'advance', ms: 1000 + (random.nextUint32() % 60_000) });
    else if (serverUp) steps.push({ do: 'expect', invariants: true });
  }
  if (!serverUp) steps.push({ do: 'server', action: 'start' });
  for (const name of names) if (online.get(name) !== true) steps.push({ device: name, do: 'online' });
  steps.push({ do: 'expect', converged: true, invariants: true });
  return ScenarioSchema.parse({
    name: `random timeline, seed ${options.seed}`,
    description: `${options.devices} devices, ${options.steps} generated steps, ${strategy}`,
    config: { scopeId: 'random', ...CONFIGS[strategy] },
    devices: Object.fromEntries(names.map((n) => [n, {}])),
    steps,
  });
}
