import { Anchor, Group, List, Loader, SegmentedControl, Stack, Text } from '@mantine/core';
import { lazy, Suspense, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { GraphNode, ProfileGraph } from '../../../../shared/protocol/admin-graph.ts';
import { failureInWords } from './admin-api.ts';
import { useAdminSession } from './AdminContext.tsx';
import { edgeInWords, joiningPath, NODE_KINDS, nodeLabel } from './graph-words.ts';
import { useAdminCall } from './useAdminCall.ts';

const GraphCanvas = lazy(() => import('./GraphCanvas.tsx'));

/**
 * A person's identity graph (SPEC GV-4..GV-6): the picture, its legend, and the same nodes and
 * edges as a text list for keyboards and screen readers. `round` reloads it after a repair.
 */
export function ProfileGraphSection({ mpid, round }: { mpid: string; round: number }) {
  const session = useAdminSession();
  const navigate = useNavigate();
  const [depth, setDepth] = useState('1');
  const { state } = useAdminCall(`${session.workspace}|${mpid}|${depth}|${round}`, () =>
    session.api.profileGraph(session.workspace, mpid, Number(depth)),
  );
  return (
    <Stack gap="xs">
      <Group gap="xs">
        <Text size="sm" id="graph-depth">
          Profiles away
        </Text>
        <SegmentedControl
          size="xs"
          aria-labelledby="graph-depth"
          value={depth}
          onChange={setDepth}
          data={['1', '2', '3']}
        />
      </Group>
      {state.status === 'loading' && (
        <Group gap="xs">
          <Loader size="sm" />
          <Text role="status">Loading the graph…</Text>
        </Group>
      )}
      {state.status === 'failed' && <Text role="alert">{failureInWords(state.failure)}</Text>}
      {state.status === 'done' && (
        <>
          <Legend />
          {state.value.truncated && (
            <Text size="sm" role="status">
              Showing the first {state.value.nodes.length} nodes; more of the graph exists.
            </Text>
          )}
          <Suspense
            fallback={
              <Text role="status" size="sm">
                Drawing the graph…
              </Text>
            }
          >
            <GraphCanvas
              graph={state.value}
              onOpenProfile={(other) => void navigate(`/admin/people/${other}`)}
            />
          </Suspense>
          <GraphAsText graph={state.value} />
        </>
      )}
    </Stack>
  );
}

export function Legend() {
  return (
    <Group gap="md" wrap="wrap" aria-label="Legend" role="list">
      {Object.values(NODE_KINDS).map((kind) => (
        <Text size="xs" key={kind.label} role="listitem">
          <span className={`graph-legend-swatch ${kind.className}`} aria-hidden="true" />
          {kind.label}
        </Text>
      ))}
      <Text size="xs" role="listitem">
        <span className="graph-legend-swatch graph-legend-joining" aria-hidden="true" />
        Alias that joined two profiles
      </Text>
    </Group>
  );
}

/** The graph as lists: every node (profiles link to their detail) and every edge in words. */
export function GraphAsText({ graph }: { graph: ProfileGraph }) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const label = (id: string) => {
    const node = byId.get(id);
    return node === undefined ? id : nodeLabel(node);
  };
  const path = joiningPath(graph);
  return (
    <details>
      <summary>
        The graph as text: {graph.nodes.length} nodes, {graph.edges.length} connections
      </summary>
      <List size="sm" spacing={2} aria-label="Graph nodes">
        {graph.nodes.map((node) => (
          <List.Item key={node.id} className="admin-break">
            <NodeText node={node} />
          </List.Item>
        ))}
      </List>
      <List size="sm" spacing={2} aria-label="Graph connections">
        {graph.edges.map((edge) => (
          <List.Item key={edge.id} className="admin-break">
            {path.edges.has(edge.id) ? <strong>{edgeInWords(edge, label)}</strong> : edgeInWords(edge, label)}
          </List.Item>
        ))}
      </List>
    </details>
  );
}

function NodeText({ node }: { node: GraphNode }) {
  const text = `${NODE_KINDS[node.kind].label}: ${nodeLabel(node)}`;
  if (node.kind !== 'profile') return <>{text}</>;
  return (
    <Anchor component={Link} to={`/admin/people/${node.mpid}`} title={`Open profile ${node.mpid}`}>
      {text}
    </Anchor>
  );
}
