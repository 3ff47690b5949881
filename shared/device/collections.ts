/**
 * The device database: three RxDB collections (the open-source limit is 13 per process) and
 * local documents for device state.
 *
 * - `graph`: the resolver's store on the device (profiles, the identity index, stored requests —
 *   which double as the device's durable request log — history and aliases), one document kind
 *   per record type. Written by the resolver; request documents replicate (push the request,
 *   pull the server's result).
 * - `profiles`: the server's view of the profiles this device may see. Pull-only, never written
 *   on the device.
 * - `events`: activity and attribute changes, each pointing at the identity request current when
 *   it happened. Push-only.
 */
import {
  addRxPlugin,
  createRxDatabase,
  type RxCollection,
  type RxDatabase,
  type RxJsonSchema,
  type RxStorage,
} from 'rxdb/plugins/core';
import { RxDBLocalDocumentsPlugin } from 'rxdb/plugins/local-documents';
import { RxDBMigrationSchemaPlugin } from 'rxdb/plugins/migration-schema';

addRxPlugin(RxDBLocalDocumentsPlugin);
addRxPlugin(RxDBMigrationSchemaPlugin);
import type { DeviceEvent, ProfileProjection } from '../protocol/sync.ts';

export const GRAPH_KINDS = ['profile', 'identity', 'request', 'history', 'alias', 'dropped', 'head'] as const;
export type GraphKind = (typeof GRAPH_KINDS)[number];

export interface GraphDoc {
  readonly id: string;
  readonly kind: GraphKind;
  /** identity: namespace|type|value; request and alias: scope|id; otherwise "". */
  readonly key: string;
  /** profile, identity: its MPID; request: the MPID it answered; otherwise "". */
  readonly mpid: string;
  /** request: device sequence; history: history sequence; otherwise 0. */
  readonly seq: number;
  /** alias: due time while pending, else -1. */
  readonly due: number;
  readonly source: string;
  readonly destination: string;
  readonly data: Record<string, unknown>;
  /**
   * request only (absent on every other kind, so that IndexedDB writes no row for it under the
   * indexes below): its device sequence (0 when it has none) and the MPID it answered.
   */
  readonly logSeq?: number;
  readonly logMpid?: string;
}

const string = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const integer = (minimum: number, maximum: number) =>
  ({ type: 'number', minimum, maximum, multipleOf: 1 }) as const;

/**
 * The graph collection's schema (SPEC DE-6). Every index is one more row that each document of
 * every write puts in IndexedDB (RxDB adds `_deleted` in front and the primary key behind, and
 * its own `_meta.lwt` ones, which every document has), and the growth of Chromium's IndexedDB
 * backend follows those rows (docs/performance.md). Version 2 keeps only two indexes of its own,
 * on fields that request documents alone carry: IndexedDB puts no row for a document without the
 * indexed field, so a profile, identity, history or head document writes only the rows RxDB needs.
 *
 * - `id` (RxDB's `[_deleted, id]`, which the Dexie storage keeps anyway): each kind is a range of
 *   ids (`kindSelector`): every profile, every alias; the holders of an identity value, since an
 *   identity document's id starts with its key.
 * - `logSeq`: the request log in order (sync, reconciliation) and its tail.
 * - `logMpid`: a person's requests (views).
 */
export const GRAPH_SCHEMA: RxJsonSchema<GraphDoc> = {
  version: 2,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: string(1400),
    kind: string(16),
    key: string(1200),
    mpid: string(24),
    seq: integer(0, 1e15),
    due: integer(-1, 1e16),
    source: string(24),
    destination: string(24),
    data: { type: 'object' },
    logSeq: integer(0, 1e15),
    logMpid: string(24),
  },
  required: ['id', 'kind', 'key', 'mpid', 'seq', 'due', 'source', 'destination', 'data'],
  indexes: ['id', 'logSeq', 'logMpid'],
};

/**
 * From one schema version of the graph to the next, document by document (RxDB copies the
 * collection into the new version's storage on the first open after an update; DE-7). Version 1
 * dropped indexes only: every document is kept as it was. Version 2 gives request documents their
 * log fields (`logFields`), from the sequence and MPID they already held.
 */
const GRAPH_MIGRATIONS = {
  1: (doc: GraphDoc): GraphDoc => doc,
  2: (doc: GraphDoc): GraphDoc =>
    doc.kind === 'request' ? { ...doc, ...logFields(doc.seq, doc.mpid) } : doc,
};

/** The indexed fields that only request documents carry (DE-6). */
export const REQUEST_ONLY_FIELDS: readonly string[] = ['logSeq', 'logMpid'];

/** The indexed fields of a request document (DE-6): its device sequence and the MPID it answered. */
export function logFields(seq: number, mpid: string): Pick<GraphDoc, 'logSeq' | 'logMpid'> {
  return { logSeq: seq, logMpid: mpid };
}

export type ProfileDoc = Omit<ProfileProjection, '_deleted'>;

export const PROFILES_SCHEMA: RxJsonSchema<ProfileDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: string(24),
    scopeId: string(64),
    environment: string(16),
    identities: { type: 'object' },
    createdAt: { type: 'number' },
    firstSeenAt: { type: 'number' },
    orphanedAt: { type: ['number', 'null'] },
  },
  required: ['id', 'scopeId', 'environment', 'identities', 'createdAt', 'firstSeenAt', 'orphanedAt'],
};

export type EventDoc = Omit<DeviceEvent, '_deleted'>;

export const EVENTS_SCHEMA: RxJsonSchema<EventDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: string(128),
    requestId: string(128),
    type: string(16),
    name: string(256),
    data: { type: 'object' },
    at: integer(0, 1e16),
  },
  required: ['id', 'requestId', 'type', 'name', 'data', 'at'],
  indexes: ['requestId', 'at'],
};

export interface DeviceCollections {
  graph: RxCollection<GraphDoc>;
  profiles: RxCollection<ProfileDoc>;
  events: RxCollection<EventDoc>;
}

export type DeviceDatabase = RxDatabase<DeviceCollections>;

/**
 * How long after a write the device database's live queries re-evaluate, all of that write's
 * changes (and any that follow meanwhile) at once (DE-13). RxDB otherwise re-evaluates every
 * followed query (the people list's is over every profile) synchronously inside the write, that is
 * inside the device lock and before the identity call answers. This page's own writes reach the
 * current user and person without a query (DE-10); what waits are lists, counts and other pages'
 * writes, by less than a human notices.
 */
export const LIVE_QUERY_DELAY_MS = 50;

/**
 * Opens (or creates) a device database on the given storage: memory in tests and the simulator,
 * Dexie (IndexedDB) in browsers and Electron. `multiInstance` lets several pages (tabs, windows)
 * open one database and see each other's writes in their live queries (DV-14); their transactions
 * are serialised by the engine's lock.
 */
export async function openDeviceDatabase(
  name: string,
  storage: RxStorage<unknown, unknown>,
  options: { readonly multiInstance?: boolean } = {},
): Promise<DeviceDatabase> {
  const db = await createRxDatabase<DeviceCollections>({
    name,
    storage,
    localDocuments: true,
    multiInstance: options.multiInstance ?? false,
    eventReduce: true,
    closeDuplicates: true,
    liveQueryUpdateThrottleTime: LIVE_QUERY_DELAY_MS,
  });
  await db.addCollections({
    graph: { schema: GRAPH_SCHEMA, migrationStrategies: GRAPH_MIGRATIONS },
    profiles: { schema: PROFILES_SCHEMA },
    events: { schema: EVENTS_SCHEMA },
  });
  return db;
}

/** A local document's data (device state), or `null` when it was never written. */
export async function readLocal<T>(db: DeviceDatabase, id: string): Promise<T | null> {
  const doc = await db.getLocal<T>(id);
  return doc === null ? null : (doc.toJSON().data as T);
}
