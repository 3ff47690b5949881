/**
 * How the identity graph view names and colours its nodes and edges (SPEC GV-5, GV-6), shared by
 * the canvas, its legend and the text list, so all three say the same thing.
 */
import type {
  GraphEdge,
  GraphNode,
  GraphNodeKind,
  ProfileGraph,
} from '../../../../shared/protocol/admin-graph.ts';
import { shortMpid } from '../../components/ShortMpid.tsx';

export const NODE_KINDS: Record<GraphNodeKind, { label: string; className: string }> = {
  profile: { label: 'Profile', className: 'graph-node-profile' },
  identity: { label: 'Identity value', className: 'graph-node-identity' },
  device: { label: 'Device', className: 'graph-node-device' },
};

export function nodeLabel(node: GraphNode): string {
  switch (node.kind) {
    case 'profile':
      return `Profile ${shortMpid(node.mpid)}${node.deleted ? ' (deleted)' : ''}`;
    case 'identity':
      return `${node.identityType}: ${node.value}`;
    case 'device':
      return `Device ${node.name}${node.revoked ? ' (revoked)' : ''}`;
  }
}

export function edgeInWords(edge: GraphEdge, label: (id: string) => string): string {
  const from = label(edge.source);
  const to = label(edge.target);
  switch (edge.kind) {
    case 'holds_identity':
      return `${from} holds ${to}`;
    case 'seen_on_device':
      return `${from} is on ${to}`;
    case 'aliased_into':
      return `${from} aliased into ${to} (${edge.status}${edge.requestId === null ? '' : `, by request ${edge.requestId}`})${edge.joins ? ': joins them' : ''}`;
  }
}

/** The edges and nodes of the path that joined profiles: aliases that still join them. */
export function joiningPath(graph: ProfileGraph): { edges: Set<string>; nodes: Set<string> } {
  const edges = new Set<string>();
  const nodes = new Set<string>();
  for (const edge of graph.edges)
    if (edge.kind === 'aliased_into' && edge.joins) {
      edges.add(edge.id);
      nodes.add(edge.source).add(edge.target);
    }
  return { edges, nodes };
}
