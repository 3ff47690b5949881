/**
 * The identity graph drawn with @xyflow/react (SPEC GV-5, GV-6). Loaded lazily, only when a
 * person's graph is shown, so neither the Field screen nor the rest of the console carries it.
 * Nodes are not focusable (the text list beside it is the keyboard and screen-reader way through
 * the graph), so Tab passes the canvas by; a click on a profile opens that profile.
 */
import { ReactFlow, type Edge, type Node } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useMemo } from 'react';
import type { ProfileGraph } from '../../../../shared/protocol/admin-graph.ts';
import { radialLayout } from './graph-layout.ts';
import { joiningPath, NODE_KINDS, nodeLabel } from './graph-words.ts';
import './graph.css';

export interface GraphCanvasProps {
  readonly graph: ProfileGraph;
  readonly onOpenProfile: (mpid: string) => void;
}

export default function GraphCanvas({ graph, onOpenProfile }: GraphCanvasProps) {
  const { nodes, edges } = useMemo(() => toFlow(graph), [graph]);
  return (
    <div className="graph-canvas" data-testid="graph-canvas">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        fitView
        minZoom={0.05}
        nodesDraggable={false}
        nodesConnectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        disableKeyboardA11y
        onlyRenderVisibleElements
        onNodeClick={(_event, node) => {
          const mpid = node.data.mpid;
          if (typeof mpid === 'string') onOpenProfile(mpid);
        }}
      />
    </div>
  );
}

export function toFlow(graph: ProfileGraph): { nodes: Node[]; edges: Edge[] } {
  const places = radialLayout(graph);
  const path = joiningPath(graph);
  const nodes = graph.nodes.map((node): Node => {
    const classes = [NODE_KINDS[node.kind].className];
    if (node.id === graph.root) classes.push('graph-node-root');
    if (path.nodes.has(node.id)) classes.push('graph-node-joined');
    return {
      id: node.id,
      position: places.get(node.id) ?? { x: 0, y: 0 },
      data: { label: nodeLabel(node), ...(node.kind === 'profile' ? { mpid: node.mpid } : {}) },
      className: classes.join(' '),
      connectable: false,
    };
  });
  const edges = graph.edges.map((edge): Edge => ({
    id: edge.id,
    source: edge.source,
    target: edge.target,
    type: 'straight',
    className: `graph-edge-${edge.kind}${path.edges.has(edge.id) ? ' graph-edge-joining' : ''}`,
    ...(edge.kind === 'aliased_into' ? { label: edge.joins ? 'aliased into' : `alias ${edge.status}` } : {}),
  }));
  return { nodes, edges };
}
