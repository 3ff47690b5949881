/**
 * The identity graph around a profile (SPEC GV-1..GV-3), read breadth-first in profile hops: each
 * round reads the identity values, device views and aliases of the profiles found so far, and the
 * profiles they lead to become the next round. Everything stays inside one workspace; the walk
 * stops adding nodes at `maxNodes` and says so (`truncated`), and edges only join answered nodes.
 */
import type { IdentityType } from '../../shared/identity/identity-types.ts';
import {
  deviceNodeId,
  identityNodeId,
  profileNodeId,
  type GraphEdge,
  type GraphNode,
  type ProfileGraph,
} from '../../shared/protocol/admin-graph.ts';
import type { DatabaseHandle } from './connect.ts';
import { toAlias } from './sql-identity-store.ts';

interface GraphWalk {
  readonly nodes: Map<string, GraphNode>;
  readonly edges: Map<string, GraphEdge>;
  readonly maxNodes: number;
  truncated: boolean;
}

/** Adds the node unless the budget is spent; true when the node is (now) in the graph. */
function addNode(walk: GraphWalk, node: GraphNode): boolean {
  if (walk.nodes.has(node.id)) return true;
  if (walk.nodes.size >= walk.maxNodes) {
    walk.truncated = true;
    return false;
  }
  walk.nodes.set(node.id, node);
  return true;
}

function addEdge(walk: GraphWalk, edge: GraphEdge): void {
  if (walk.nodes.has(edge.source) && walk.nodes.has(edge.target)) walk.edges.set(edge.id, edge);
}

const CHUNK = 500;
function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export class ProfileGraphReader {
  constructor(private readonly handle: DatabaseHandle) {}

  /** The graph around `mpid`, or null when the workspace holds no live profile `mpid`. */
  async around(
    workspace: string,
    mpid: string,
    depth: number,
    maxNodes: number,
  ): Promise<ProfileGraph | null> {
    const { db } = this.handle;
    const root = await db
      .selectFrom('profiles')
      .select('mpid')
      .where('scope_id', '=', workspace)
      .where('mpid', '=', mpid)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (root === undefined) return null;
    const walk: GraphWalk = { nodes: new Map(), edges: new Map(), maxNodes, truncated: false };
    addNode(walk, { kind: 'profile', id: profileNodeId(mpid), mpid, depth: 0, deleted: false });
    let frontier = [mpid];
    for (let hop = 0; hop <= depth && frontier.length > 0; hop++) {
      const next = new Set<string>();
      const reach = (other: string) => {
        if (walk.nodes.has(profileNodeId(other))) return;
        if (hop === depth) return;
        next.add(other);
      };
      for (const part of chunks(frontier)) {
        await this.identities(workspace, part, walk, reach);
        await this.devices(workspace, part, walk, reach);
        await this.aliases(workspace, part, reach);
      }
      frontier = [];
      if (next.size === 0) break;
      const live = await this.liveness(workspace, [...next]);
      for (const other of next) {
        const deleted = !live.has(other);
        if (
          addNode(walk, { kind: 'profile', id: profileNodeId(other), mpid: other, depth: hop + 1, deleted })
        )
          frontier.push(other);
      }
      await this.joinFrontier(workspace, frontier, walk);
    }
    return {
      workspace,
      root: profileNodeId(mpid),
      depth,
      nodes: [...walk.nodes.values()],
      edges: [...walk.edges.values()],
      truncated: walk.truncated,
    };
  }

  /** Holds-identity edges of `mpids`; other profiles holding the same values are reached. */
  private async identities(
    workspace: string,
    mpids: string[],
    walk: GraphWalk,
    reach: (mpid: string) => void,
  ) {
    const { db } = this.handle;
    const held = await db
      .selectFrom('identities')
      .select(['mpid', 'environment', 'identity_type', 'value'])
      .where('scope_id', '=', workspace)
      .where('mpid', 'in', mpids)
      .orderBy('id')
      .execute();
    for (const row of held) {
      const id = identityNodeId(row.environment, row.identity_type, row.value);
      const added = addNode(walk, {
        kind: 'identity',
        id,
        environment: row.environment as 'production' | 'development',
        identityType: row.identity_type as IdentityType,
        value: row.value,
      });
      if (!added) continue;
      addEdge(walk, holds(row.mpid, id));
      const sharers = await db
        .selectFrom('identities')
        .select('mpid')
        .where('scope_id', '=', workspace)
        .where('environment', '=', row.environment)
        .where('identity_type', '=', row.identity_type)
        .where('value', '=', row.value)
        .where('mpid', '!=', row.mpid)
        .execute();
      for (const sharer of sharers) reach(sharer.mpid);
    }
  }

  /** Seen-on-device edges: the workspace's devices whose view holds one of `mpids`. */
  private async devices(workspace: string, mpids: string[], walk: GraphWalk, reach: (mpid: string) => void) {
    const { db } = this.handle;
    const views = await db
      .selectFrom('device_views')
      .innerJoin('devices', 'devices.id', 'device_views.device_id')
      .select(['device_views.mpid', 'devices.id', 'devices.name', 'devices.revoked_at'])
      .where('devices.workspace_id', '=', workspace)
      .where('device_views.mpid', 'in', mpids)
      .orderBy('devices.id')
      .execute();
    const seen = new Set<string>();
    for (const row of views) {
      const id = deviceNodeId(row.id);
      const device: GraphNode = {
        kind: 'device',
        id,
        deviceId: row.id,
        name: row.name,
        revoked: row.revoked_at !== null,
      };
      if (!addNode(walk, device)) continue;
      addEdge(walk, seenOn(row.mpid, id));
      seen.add(row.id);
    }
    if (seen.size === 0) return;
    const others = await db
      .selectFrom('device_views')
      .select('mpid')
      .where('device_id', 'in', [...seen])
      .execute();
    for (const other of others) reach(other.mpid);
  }

  /** Aliased-into edges with the request that joined the two profiles. */
  private async aliases(workspace: string, mpids: string[], reach: (mpid: string) => void) {
    const { db } = this.handle;
    const rows = await db
      .selectFrom('aliases')
      .selectAll()
      .where('scope_id', '=', workspace)
      .where((eb) => eb.or([eb('source_mpid', 'in', mpids), eb('destination_mpid', 'in', mpids)]))
      .orderBy('requested_at')
      .orderBy('id')
      .execute();
    for (const row of rows) {
      const alias = toAlias(row);
      reach(alias.sourceMpid);
      reach(alias.destinationMpid);
    }
  }

  /** Edges from the newly added profiles to nodes already in the graph (aliases, identities, devices). */
  private async joinFrontier(workspace: string, frontier: string[], walk: GraphWalk) {
    if (frontier.length === 0) return;
    const { db } = this.handle;
    for (const part of chunks(frontier)) {
      const held = await db
        .selectFrom('identities')
        .select(['mpid', 'environment', 'identity_type', 'value'])
        .where('scope_id', '=', workspace)
        .where('mpid', 'in', part)
        .execute();
      for (const row of held)
        addEdge(walk, holds(row.mpid, identityNodeId(row.environment, row.identity_type, row.value)));
      const views = await db
        .selectFrom('device_views')
        .select(['mpid', 'device_id'])
        .where('mpid', 'in', part)
        .execute();
      for (const row of views) addEdge(walk, seenOn(row.mpid, deviceNodeId(row.device_id)));
    }
    await this.aliasEdges(workspace, walk);
  }

  /** Every alias between two answered profiles, with its accepted request from the history. */
  private async aliasEdges(workspace: string, walk: GraphWalk) {
    const { db } = this.handle;
    const mpids = [...walk.nodes.values()].flatMap((n) => (n.kind === 'profile' ? [n.mpid] : []));
    for (const part of chunks(mpids)) {
      const rows = await db
        .selectFrom('aliases')
        .selectAll()
        .where('scope_id', '=', workspace)
        .where('source_mpid', 'in', part)
        .orderBy('requested_at')
        .orderBy('id')
        .execute();
      const aliases = rows.map(toAlias).filter((a) => walk.nodes.has(profileNodeId(a.destinationMpid)));
      if (aliases.length === 0) continue;
      const accepted = await db
        .selectFrom('history')
        .select(['alias_id', 'request_id'])
        .where('scope_id', '=', workspace)
        .where('kind', '=', 'alias_accepted')
        .where(
          'alias_id',
          'in',
          aliases.map((a) => a.id),
        )
        .execute();
      const requestOf = new Map(accepted.map((h) => [h.alias_id, h.request_id]));
      for (const alias of aliases)
        addEdge(walk, {
          kind: 'aliased_into',
          id: `alias:${alias.id}`,
          source: profileNodeId(alias.sourceMpid),
          target: profileNodeId(alias.destinationMpid),
          aliasId: alias.id,
          status: alias.status,
          requestId: requestOf.get(alias.id) ?? null,
          joins: alias.status === 'applied' || alias.status === 'pending',
        });
    }
  }

  private async liveness(workspace: string, mpids: string[]): Promise<Set<string>> {
    const live = new Set<string>();
    for (const part of chunks(mpids)) {
      const rows = await this.handle.db
        .selectFrom('profiles')
        .select('mpid')
        .where('scope_id', '=', workspace)
        .where('mpid', 'in', part)
        .where('deleted_at', 'is', null)
        .execute();
      for (const row of rows) live.add(row.mpid);
    }
    return live;
  }
}

const holds = (mpid: string, identity: string): GraphEdge => ({
  kind: 'holds_identity',
  id: `holds:${mpid}:${identity}`,
  source: profileNodeId(mpid),
  target: identity,
});
const seenOn = (mpid: string, device: string): GraphEdge => ({
  kind: 'seen_on_device',
  id: `seen:${mpid}:${device}`,
  source: profileNodeId(mpid),
  target: device,
});
