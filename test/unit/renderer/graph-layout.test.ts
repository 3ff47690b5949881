import { describe, expect, it } from 'vitest';
import {
  distancesFrom,
  NODE_SPACING,
  radialLayout,
  RING_GAP,
  type LayoutInput,
} from '../../../renderer/src/features/admin/graph-layout.ts';

/** A root profile with `fanout` identity values, each held by another profile with `fanout` values. */
function tree(fanout: number): LayoutInput {
  const nodes = [{ id: 'root' }];
  const edges: { source: string; target: string }[] = [];
  for (let i = 0; i < fanout; i++) {
    nodes.push({ id: `v${i}` }, { id: `p${i}` });
    edges.push({ source: 'root', target: `v${i}` }, { source: `p${i}`, target: `v${i}` });
    for (let j = 0; j < fanout; j++) {
      nodes.push({ id: `v${i}.${j}` });
      edges.push({ source: `p${i}`, target: `v${i}.${j}` });
    }
  }
  return { root: 'root', nodes, edges };
}

const length = (p: { x: number; y: number }) => Math.hypot(p.x, p.y);

describe('graph layout', () => {
  it('[GV-5] puts the root in the middle and every node on the ring of its distance', () => {
    const input = tree(4);
    const places = radialLayout(input);
    expect(places.size).toBe(input.nodes.length);
    expect(places.get('root')).toEqual({ x: 0, y: 0 });
    const distance = distancesFrom(input);
    const radiusOf = new Map<number, number>();
    for (const [id, place] of places) {
      const ring = distance.get(id)!;
      if (ring === 0) continue;
      const radius = radiusOf.get(ring) ?? length(place);
      radiusOf.set(ring, radius);
      expect(Math.abs(length(place) - radius)).toBeLessThan(1.5);
    }
    const radii = [...radiusOf.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
    for (let i = 1; i < radii.length; i++)
      expect(radii[i]! - radii[i - 1]!).toBeGreaterThanOrEqual(RING_GAP - 2);
  });

  it('[GV-5] keeps 500 nodes apart and places nodes the root does not reach on an outer ring', () => {
    const input = tree(21); // 1 + 21 * 23 = 484 nodes
    const lonely = {
      ...input,
      nodes: [...input.nodes, ...Array.from({ length: 16 }, (_, i) => ({ id: `x${i}` }))],
    };
    expect(lonely.nodes).toHaveLength(500);
    const places = [...radialLayout(lonely).values()];
    expect(places).toHaveLength(500);
    let closest = Infinity;
    for (let i = 0; i < places.length; i++)
      for (let j = i + 1; j < places.length; j++)
        closest = Math.min(closest, Math.hypot(places[i]!.x - places[j]!.x, places[i]!.y - places[j]!.y));
    expect(closest).toBeGreaterThanOrEqual(NODE_SPACING * 0.9);
    expect(distancesFrom(lonely).get('x0')).toBe(4);
  });

  it('[GV-5] is deterministic', () => {
    expect([...radialLayout(tree(5))]).toEqual([...radialLayout(tree(5))]);
  });
});
