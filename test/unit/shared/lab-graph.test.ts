/**
 * The identity graph after a Lab step (SPEC LB-9) in the admin graph view's shape: profiles with
 * the identity values they hold (a value two profiles hold is one node), devices linked to their
 * current user, aliases that join highlighted, the step's device's user as the root; nothing while
 * the server was down.
 */
import { describe, expect, it } from 'vitest';
import { ProfileGraphSchema } from '../../../shared/protocol/admin-graph.ts';
import { graphAfterStep } from '../../../shared/protocol/lab-graph.ts';
import type { TimelineStep } from '../../../shared/protocol/lab.ts';

const STEP: TimelineStep = {
  step: 4,
  do: 'login',
  device: 'b',
  answer: null,
  serverAnswer: null,
  serverAnswerSeenAt: null,
  serverTrace: null,
  currentUsers: { a: '11', b: '22', c: null },
  loggedIn: { a: false, b: true, c: null },
  graph: {
    profiles: [
      { mpid: '11', environment: 'production', identities: { email: ['x@example.com'] }, orphaned: false },
      {
        mpid: '22',
        environment: 'production',
        identities: { customerid: ['c1'], email: ['x@example.com'] },
        orphaned: false,
      },
    ],
    aliases: [
      { id: 'al1', source: '11', destination: '22', status: 'applied' },
      { id: 'al2', source: '22', destination: '11', status: 'rejected' },
    ],
  },
};

describe('the identity graph after a Lab step', () => {
  it('[LB-9] profiles, shared identity values, devices and aliases, rooted at the step device’s user', () => {
    const graph = graphAfterStep(STEP);
    expect(ProfileGraphSchema.parse(graph)).toEqual(graph);
    expect(graph?.root).toBe('profile:22');
    expect(graph?.nodes.map((n) => n.id)).toEqual([
      'profile:11',
      'identity:production:email:x@example.com',
      'profile:22',
      'identity:production:customerid:c1',
      'device:a',
      'device:b',
    ]);
    const edges = graph?.edges.map((e) => `${e.kind} ${e.source} ${e.target}`);
    expect(edges).toContain('holds_identity profile:22 identity:production:email:x@example.com');
    expect(edges).toContain('seen_on_device profile:11 device:a');
    expect(
      graph?.edges.filter((e) => e.kind === 'aliased_into').map((e) => [e.id, 'joins' in e && e.joins]),
    ).toEqual([
      ['alias:al1', true],
      ['alias:al2', false],
    ]);
  });

  it('[LB-9] no graph while the server was down', () => {
    expect(graphAfterStep({ ...STEP, graph: null })).toBeNull();
  });
});
