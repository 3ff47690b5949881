/**
 * Convergence checks (SPEC SM-5, SM-6): every device's view equals the server's, and the server's
 * graph equals a serial replay of the requests in the order the server accepted them.
 */
import { MemoryIdentityStore } from '../shared/memory-store/memory-store.ts';
import type { ScopeConfig } from '../shared/identity/scope-config.ts';
import type { ProfileProjection } from '../shared/protocol/sync.ts';
import { resolveOptions } from '../shared/resolver/context.ts';
import { programFor, responseOf } from '../shared/resolver/program-for.ts';
import type { IdentitySet, ProfileRecord } from '../shared/resolver/records.ts';
import { runInTransactionSync } from '../shared/resolver/store-port.ts';
import { seededRandom } from '../shared/util/random.ts';
import { answeredMpid } from '../shared/device/engine.ts';
import type { World } from './world.ts';

/** Identities with sorted types and values, for comparisons. */
export function canonicalIdentities(
  identities: IdentitySet | Partial<Record<string, readonly string[]>>,
): string {
  const out: Record<string, string[]> = {};
  for (const key of Object.keys(identities).sort()) {
    const values = (identities as Record<string, readonly string[] | undefined>)[key];
    if (values !== undefined && values.length > 0) out[key] = [...values].sort();
  }
  return JSON.stringify(out);
}

/** One comparable line per profile: MPID, identities, and whether it is orphaned. */
function profileKey(mpid: string, p: { identities: IdentitySet; orphanedAt: number | null }): string {
  return `${mpid} ${canonicalIdentities(p.identities)} ${p.orphanedAt === null ? 'live' : 'orphaned'}`;
}

const projectionKey = (p: Omit<ProfileProjection, '_deleted'>) => profileKey(p.id, p);

/** Differences between a device's view and the server's (empty when converged). */
export async function deviceDivergence(world: World, name: string): Promise<string[]> {
  const device = await world.use(name);
  const problems: string[] = [];
  const requests = await device.engine.requests();
  const pending = requests.filter((r) => r.server === null);
  if (pending.length > 0) problems.push(`${name}: ${pending.length} requests not yet replayed by the server`);
  const server = (await world.serverView(name))
    .filter((p) => !p._deleted)
    .map(projectionKey)
    .sort();
  const local = (await device.db.profiles.find().exec())
    .map((d) => projectionKey(d.toJSON() as Omit<ProfileProjection, '_deleted'>))
    .sort();
  if (JSON.stringify(server) !== JSON.stringify(local)) {
    problems.push(
      `${name}: pulled profiles differ from the server's view\n  server: ${server.join('\n          ')}\n  device: ${local.join('\n          ')}`,
    );
  }
  const people = (await device.engine.people())
    .map((p) => profileKey(p.mpid, { identities: p.identities, orphanedAt: null }))
    .sort();
  const liveServer = server.filter((p) => p.endsWith(' live'));
  if (JSON.stringify(people) !== JSON.stringify(liveServer)) {
    problems.push(
      `${name}: the device's people differ from the server's view\n  server: ${liveServer.join('\n          ')}\n  device: ${people.join('\n          ')}`,
    );
  }
  const latest = [...requests]
    .reverse()
    .find((r) => ['identify', 'login', 'logout'].includes(r.kind) && answeredMpid(r) !== null);
  const current = await device.engine.currentUser();
  if (latest !== undefined && current?.mpid !== answeredMpid(latest)) {
    problems.push(
      `${name}: current user ${current?.mpid ?? 'none'} but the server answered ${answeredMpid(latest) ?? 'none'}`,
    );
  }
  return problems;
}

const graphKey = (p: ProfileRecord) => profileKey(p.mpid, p);

/**
 * Replays the server's accepted device requests, in the order it accepted them, through the
 * reference resolver on the in-memory store, and compares answers and the final identity graph.
 */
export async function replayDivergence(world: World, config: ScopeConfig): Promise<string[]> {
  const exported = await world.export();
  const store = new MemoryIdentityStore();
  const scoped: ScopeConfig = { ...config, scopeId: world.workspaceId };
  const problems: string[] = [];
  for (const entry of exported.deviceRequests) {
    const options = resolveOptions({
      config: scoped,
      random: seededRandom(entry.seq),
      now: entry.at,
      actor: { kind: 'device', id: entry.deviceId },
      preferredMpid: entry.createdMpid,
      // The server's coarse last-seen (LS-3): the A4 tie-break compares these times, so a replay
      // with exact ones can pick another of several matching profiles.
      lastSeenResolutionMs: exported.lastSeenResolutionMs,
    });
    // A modify the server refused names no target we could replay it on; it changed nothing.
    if (entry.status === 'failed' && entry.kind === 'modify') continue;
    // The program the server ran (SS-1), on the body as the server resolved it.
    const request = { body: entry.body, target: entry.mpid ?? '' };
    const outcome = runInTransactionSync(store, () => programFor(entry.kind, request, options));
    if (outcome.ok !== (entry.status === 'applied')) {
      const replay = outcome.ok ? 'succeeded' : `failed (${outcome.error.error.message})`;
      problems.push(`replay of ${entry.requestId} ${replay} but the server's ${entry.kind} ${entry.status}`);
      continue;
    }
    if (!outcome.ok) continue;
    if (
      entry.kind !== 'alias' &&
      JSON.stringify(responseOf(outcome.value)) !== JSON.stringify(entry.response)
    ) {
      problems.push(`replay of ${entry.requestId} answered differently`);
    }
  }
  const replayed = store.dumpSync().profiles.map(graphKey).sort();
  const server = exported.profiles.map(graphKey).sort();
  if (JSON.stringify(replayed) !== JSON.stringify(server)) {
    problems.push(
      `the server's graph differs from a serial replay\n  server: ${server.join('\n          ')}\n  replay: ${replayed.join('\n          ')}`,
    );
  }
  return problems;
}

/**
 * What must hold on the server after any step (SPEC SM-4): a unique identity value belongs to at
 * most one live profile per environment, no device request was applied twice, and the server
 * holds no event a device did not record, nor any twice. Once every device has synced
 * (`settled`), the server holds exactly the events each device recorded.
 */
export async function serverInvariants(
  world: World,
  config: ScopeConfig,
  settled: boolean,
): Promise<string[]> {
  const problems: string[] = [];
  const exported = await world.export();
  const holders = new Map<string, string[]>();
  for (const profile of exported.profiles) {
    if (profile.orphanedAt !== null) continue;
    for (const type of config.uniqueIdentities) {
      for (const value of profile.identities[type] ?? []) {
        const key = `${profile.environment} ${type}=${value}`;
        holders.set(key, [...(holders.get(key) ?? []), profile.mpid]);
      }
    }
  }
  for (const [key, mpids] of holders) {
    if (mpids.length > 1)
      problems.push(`unique identity ${key} is held by ${mpids.length} live profiles: ${mpids.join(', ')}`);
  }
  const seen = new Set<string>();
  for (const entry of exported.deviceRequests) {
    if (seen.has(entry.requestId)) problems.push(`request ${entry.requestId} was applied twice`);
    seen.add(entry.requestId);
  }
  for (const name of world.devices.keys()) {
    const device = await world.use(name);
    const local = (await device.db.events.find().exec()).length;
    const held = exported.eventCounts[device.engine.deviceId] ?? 0;
    if (held > local)
      problems.push(`${name}: the server holds ${held} events but the device recorded only ${local}`);
    if (settled && held !== local)
      problems.push(`${name}: the device recorded ${local} events but the server holds ${held}`);
  }
  return problems;
}
