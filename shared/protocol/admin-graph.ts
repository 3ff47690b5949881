/**
 * The identity graph around one profile (SPEC GV-1..GV-4), as the admin API answers it and the
 * console's graph view reads it: profiles, the identity values they hold, the devices whose view
 * holds them, and the aliases that joined them, as nodes and edges.
 */
import { z } from 'zod';
import { IdentityTypeSchema } from '../identity/identity-types.ts';
import { MpidSchema } from '../identity/mpid.ts';
import { EnvironmentSchema } from '../identity/scope-config.ts';
import { ALIAS_STATUSES } from '../resolver/records.ts';

const MAX_GRAPH_DEPTH = 3;
const DEFAULT_GRAPH_NODES = 200;
/** The most nodes one answer may hold (the view stays interactive with this many, GV-4). */
export const MAX_GRAPH_NODES = 1000;

export const GraphQuerySchema = z.object({
  /** How many profile-to-profile hops to follow from the profile asked for. */
  depth: z.coerce.number().int().min(1).max(MAX_GRAPH_DEPTH).default(1),
  max_nodes: z.coerce.number().int().min(1).max(MAX_GRAPH_NODES).default(DEFAULT_GRAPH_NODES),
});
export type GraphQuery = z.infer<typeof GraphQuerySchema>;

const ProfileNodeSchema = z.object({
  kind: z.literal('profile'),
  id: z.string(),
  mpid: MpidSchema,
  /** How many profile hops from the profile asked for (0 for that profile). */
  depth: z.number().int().min(0),
  deleted: z.boolean(),
});
const IdentityNodeSchema = z.object({
  kind: z.literal('identity'),
  id: z.string(),
  environment: EnvironmentSchema,
  identityType: IdentityTypeSchema,
  value: z.string(),
});
const DeviceNodeSchema = z.object({
  kind: z.literal('device'),
  id: z.string(),
  deviceId: z.string(),
  name: z.string(),
  revoked: z.boolean(),
});
export const GraphNodeSchema = z.discriminatedUnion('kind', [
  ProfileNodeSchema,
  IdentityNodeSchema,
  DeviceNodeSchema,
]);
export type GraphNode = z.infer<typeof GraphNodeSchema>;
export type GraphNodeKind = GraphNode['kind'];

const HoldsEdgeSchema = z.object({
  kind: z.literal('holds_identity'),
  id: z.string(),
  source: z.string(),
  target: z.string(),
});
const SeenOnEdgeSchema = z.object({
  kind: z.literal('seen_on_device'),
  id: z.string(),
  source: z.string(),
  target: z.string(),
});
/** Source profile aliased into the destination profile, by the alias request `requestId`. */
const AliasEdgeSchema = z.object({
  kind: z.literal('aliased_into'),
  id: z.string(),
  source: z.string(),
  target: z.string(),
  aliasId: z.string(),
  status: z.enum(ALIAS_STATUSES),
  /** The request that joined the two profiles (the accepted alias request), when recorded. */
  requestId: z.string().nullable(),
  /** True while the alias joins the two profiles (pending or applied): the path to highlight. */
  joins: z.boolean(),
});
export const GraphEdgeSchema = z.discriminatedUnion('kind', [
  HoldsEdgeSchema,
  SeenOnEdgeSchema,
  AliasEdgeSchema,
]);
export type GraphEdge = z.infer<typeof GraphEdgeSchema>;
export type GraphEdgeKind = GraphEdge['kind'];

export const ProfileGraphSchema = z.object({
  workspace: z.string(),
  /** The node id of the profile asked for. */
  root: z.string(),
  depth: z.number().int(),
  nodes: z.array(GraphNodeSchema),
  edges: z.array(GraphEdgeSchema),
  /** True when `max_nodes` stopped the walk: more of the graph exists than was answered. */
  truncated: z.boolean(),
});
export type ProfileGraph = z.infer<typeof ProfileGraphSchema>;

export const profileNodeId = (mpid: string) => `profile:${mpid}`;
export const identityNodeId = (environment: string, type: string, value: string) =>
  `identity:${environment}:${type}:${value}`;
export const deviceNodeId = (deviceId: string) => `device:${deviceId}`;
