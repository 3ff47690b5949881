/**
 * A radial layout for the identity graph (SPEC GV-5): the profile asked for in the middle, every
 * other node on the ring of its distance (in edges) from it, rings spread wide enough that
 * neighbours on a ring stay `spacing` apart. Pure and deterministic (same graph, same places), so
 * no layout library is needed and a re-render after a reload does not move the picture.
 */
export interface LayoutInput {
  readonly root: string;
  readonly nodes: readonly { readonly id: string }[];
  readonly edges: readonly { readonly source: string; readonly target: string }[];
}
export interface Point {
  readonly x: number;
  readonly y: number;
}

export const RING_GAP = 220;
export const NODE_SPACING = 90;
/** Each ring starts a little further round, so small rings do not line up in one column. */
const RING_TWIST = 0.6;

/** Each node's distance from the root; nodes the root does not reach go one ring further out. */
export function distancesFrom(input: LayoutInput): Map<string, number> {
  const neighbours = new Map<string, string[]>();
  for (const { source, target } of input.edges) {
    neighbours.set(source, [...(neighbours.get(source) ?? []), target]);
    neighbours.set(target, [...(neighbours.get(target) ?? []), source]);
  }
  const distance = new Map<string, number>([[input.root, 0]]);
  let frontier = [input.root];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const id of frontier)
      for (const other of neighbours.get(id) ?? [])
        if (!distance.has(other)) {
          distance.set(other, distance.get(id)! + 1);
          next.push(other);
        }
    frontier = next;
  }
  const outer = Math.max(0, ...distance.values()) + 1;
  for (const { id } of input.nodes) if (!distance.has(id)) distance.set(id, outer);
  return distance;
}

export function radialLayout(input: LayoutInput): Map<string, Point> {
  const distance = distancesFrom(input);
  const rings = new Map<number, string[]>();
  for (const { id } of input.nodes) {
    const ring = distance.get(id)!;
    rings.set(ring, [...(rings.get(ring) ?? []), id]);
  }
  const places = new Map<string, Point>();
  let radius = 0;
  for (const ring of [...rings.keys()].sort((a, b) => a - b)) {
    const ids = rings.get(ring)!;
    if (ring === 0) {
      for (const id of ids) places.set(id, { x: 0, y: 0 });
      continue;
    }
    radius = Math.max(radius + RING_GAP, (ids.length * NODE_SPACING) / (2 * Math.PI));
    ids.forEach((id, index) => {
      const angle = (2 * Math.PI * index) / ids.length - Math.PI / 2 + ring * RING_TWIST;
      places.set(id, { x: Math.round(radius * Math.cos(angle)), y: Math.round(radius * Math.sin(angle)) });
    });
  }
  return places;
}
