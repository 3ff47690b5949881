/**
 * The identity graph after one step of a Lab run (SPEC LB-9), in the shape of the admin graph view
 * (`ProfileGraph`, GV-2) so the console draws it with the same view: every profile of the run's
 * workspace with the identity values it holds, each device linked to its current user, and every
 * alias. Built from the simulator's snapshot of the server after the step.
 */
import { IDENTITY_TYPES } from '../identity/identity-types.ts';
import {
  deviceNodeId,
  identityNodeId,
  profileNodeId,
  type GraphEdge,
  type GraphNode,
  type ProfileGraph,
} from './admin-graph.ts';
import type { TimelineStep } from './lab.ts';

/** The graph after `step`, or null when the server was down then. */
export function graphAfterStep(step: TimelineStep): ProfileGraph | null {
  const { graph } = step;
  if (graph === null) return null;
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  for (const profile of graph.profiles) {
    const id = profileNodeId(profile.mpid);
    nodes.push({ kind: 'profile', id, mpid: profile.mpid, depth: 0, deleted: profile.orphaned });
    for (const type of IDENTITY_TYPES) {
      for (const value of profile.identities[type] ?? []) {
        const identity = identityNodeId(profile.environment, type, value);
        if (!seen.has(identity)) {
          seen.add(identity);
          nodes.push({
            kind: 'identity',
            id: identity,
            environment: profile.environment,
            identityType: type,
            value,
          });
        }
        edges.push({
          kind: 'holds_identity',
          id: `holds:${profile.mpid}:${identity}`,
          source: id,
          target: identity,
        });
      }
    }
  }
  const profiles = new Set(graph.profiles.map((p) => p.mpid));
  for (const [name, mpid] of Object.entries(step.currentUsers)) {
    if (mpid === null || !profiles.has(mpid)) continue;
    const device = deviceNodeId(name);
    nodes.push({ kind: 'device', id: device, deviceId: name, name, revoked: false });
    edges.push({
      kind: 'seen_on_device',
      id: `seen:${mpid}:${device}`,
      source: profileNodeId(mpid),
      target: device,
    });
  }
  for (const alias of graph.aliases) {
    if (!profiles.has(alias.source) || !profiles.has(alias.destination)) continue;
    edges.push({
      kind: 'aliased_into',
      id: `alias:${alias.id}`,
      source: profileNodeId(alias.source),
      target: profileNodeId(alias.destination),
      aliasId: alias.id,
      status: alias.status,
      requestId: null,
      joins: alias.status === 'applied' || alias.status === 'pending',
    });
  }
  const device = step.device === null ? null : step.currentUsers[step.device];
  const root =
    device !== null && device !== undefined && profiles.has(device)
      ? profileNodeId(device)
      : (nodes.find((n) => n.kind === 'profile')?.id ?? '');
  return { workspace: 'lab', root, depth: 1, nodes, edges, truncated: false };
}
