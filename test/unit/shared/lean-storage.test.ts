import { describe, expect, it } from 'vitest';
import { MemoryIdentityStore } from '../../../shared/memory-store/memory-store.ts';
import { RECOMPUTED_NOTE } from '../../../shared/resolver/idempotency.ts';
import { Resolver, type ResolverSettings } from '../../../shared/resolver/resolver.ts';
import type { AsyncStoreTx, IdentityStore, WriteSet } from '../../../shared/resolver/store-port.ts';
import { seededRandom } from '../../../shared/util/random.ts';
import { ManualClock } from '../../helpers/clock.ts';
import { expectOk, identityBody, scenarioConfig } from '../../helpers/harness.ts';

/** The memory store, counting the commits the resolver sends it. */
class CountingStore implements IdentityStore {
  readonly inner = new MemoryIdentityStore();
  readonly commits: WriteSet[] = [];

  transaction<T>(fn: (tx: AsyncStoreTx) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) =>
      fn({
        ...tx,
        commit: (write) => {
          this.commits.push(write);
          return tx.commit(write);
        },
      }),
    );
  }
}

function setup(settings: ResolverSettings = {}) {
  const store = new CountingStore();
  const clock = new ManualClock();
  const resolver = new Resolver(store, clock, seededRandom(7), settings);
  const config = scenarioConfig('profile_conversion');
  const identify = async (ids: Record<string, string>, requestId?: string) =>
    expectOk(
      await resolver.identify(config, identityBody(ids, requestId === undefined ? {} : { requestId })),
    );
  const stored = () => store.inner.dumpSync().requests;
  return { store, clock, resolver, config, identify, stored };
}

describe('lean stored requests (LS)', () => {
  it('[LS-1] a request that changed the graph is stored with its trace', async () => {
    const t = setup();
    const created = await t.identify({ ios_idfv: 'd1' });
    expect(t.stored()).toHaveLength(1);
    expect(t.stored()[0]).toMatchObject({ requestId: created.requestId, trace: { branch: 'new_anonymous' } });
  });

  it('[LS-1] a no-change request without request_id stores nothing; with one, fingerprint and response only', async () => {
    const t = setup();
    await t.identify({ ios_idfv: 'd1' });
    await t.identify({ ios_idfv: 'd1' });
    expect(t.stored()).toHaveLength(1);
    const again = await t.identify({ ios_idfv: 'd1' }, 'r-2');
    const kept = t.stored().find((r) => r.requestId === 'r-2');
    expect(kept).toMatchObject({ trace: null, response: again.response, status: 200 });
    expect(kept?.fingerprint).toEqual(expect.any(String));
  });

  it('[LS-2][IP-2] a replay of a no-change request answers the stored response with a recomputed trace and writes nothing', async () => {
    const t = setup();
    const first = await t.identify({ ios_idfv: 'd1' });
    const sent = await t.identify({ ios_idfv: 'd1' }, 'r-2');
    const commits = t.store.commits.length;
    const replay = await t.identify({ ios_idfv: 'd1' }, 'r-2');
    expect(replay.replayed).toBe(true);
    expect(replay.response).toEqual(sent.response);
    expect(replay.created).toBe(false);
    expect(replay.trace.result.mpid).toBe(first.response.mpid);
    expect(replay.trace.notes).toContain(RECOMPUTED_NOTE);
    expect(t.store.commits.length).toBe(commits);
  });

  it('[LS-2] recomputing a replay leaves the random stream alone: later MPIDs are those without the replay', async () => {
    const plain = setup();
    const replaying = setup();
    for (const t of [plain, replaying]) {
      await t.identify({ ios_idfv: 'd1' });
      await t.identify({ ios_idfv: 'd1' }, 'r-2');
    }
    await replaying.identify({ ios_idfv: 'd1' }, 'r-2');
    const a = await plain.identify({ ios_idfv: 'd2' });
    const b = await replaying.identify({ ios_idfv: 'd2' });
    expect(b.response.mpid).toBe(a.response.mpid);
  });

  it('[LS-2] a replayed no-change modify whose profile was orphaned since still answers the stored response', async () => {
    const t = setup();
    const user = await t.identify({ customerid: 'c1' });
    const change = (old: string | null, value: string | null, requestId?: string) =>
      t.resolver.modify(t.config, user.response.mpid, {
        environment: 'production',
        ...(requestId === undefined ? {} : { request_id: requestId }),
        identity_changes: [{ identity_type: 'customerid', old_value: old, new_value: value }],
      });
    const unchanged = expectOk(await change(null, 'c1', 'm-1'));
    expectOk(await change('c1', null));
    const replay = expectOk(await change(null, 'c1', 'm-1'));
    expect(replay.replayed).toBe(true);
    expect(replay.response).toEqual(unchanged.response);
  });

  it('[LS-3] with a last-seen resolution a returning user seen again within it commits nothing', async () => {
    const t = setup({ lastSeenResolutionMs: 60_000 });
    const first = await t.identify({ ios_idfv: 'd1' });
    const commits = t.store.commits.length;
    await t.identify({ ios_idfv: 'd1' });
    expect(t.store.commits.length).toBe(commits);
    const seen = () =>
      t.store.inner.dumpSync().profiles.find((p) => p.mpid === first.response.mpid)?.lastSeenAt;
    const before = seen();
    t.clock.advance(60_000);
    await t.identify({ ios_idfv: 'd1' });
    expect(t.store.commits.length).toBe(commits + 1);
    expect(seen()).toBeGreaterThan(before ?? 0);
  });

  it('[LS-3] without a resolution every request advances last-seen (IL-9 unchanged)', async () => {
    const t = setup();
    await t.identify({ ios_idfv: 'd1' });
    const commits = t.store.commits.length;
    await t.identify({ ios_idfv: 'd1' });
    expect(t.store.commits.length).toBe(commits + 1);
    expect(t.store.commits.at(-1)).toMatchObject({ history: [], request: null });
  });

  it('[LS-9] a memory store that keeps no traces stores requests without them and still answers replays', async () => {
    const store = new MemoryIdentityStore({ keepTraces: false });
    const resolver = new Resolver(store, new ManualClock(), seededRandom(7));
    const config = scenarioConfig('profile_conversion');
    const body = identityBody({ ios_idfv: 'd1' }, { requestId: 'r-1' });
    const first = expectOk(await resolver.identify(config, body));
    expect(store.dumpSync().requests).toMatchObject([{ requestId: 'r-1', trace: null }]);
    const replay = expectOk(await resolver.identify(config, body));
    expect(replay).toMatchObject({ replayed: true, response: first.response });
    expect(replay.trace.result.mpid).toBe(first.response.mpid);
  });
});
