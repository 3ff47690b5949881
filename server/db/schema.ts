/**
 * The SQL schema as Kysely sees it. Times are epoch milliseconds (BIGINT, read back as numbers);
 * MPIDs are canonical decimal strings (TEXT); JSON columns are TEXT holding JSON, portable across
 * SQLite and PostgreSQL.
 */
import type { Generated } from 'kysely';

export interface WorkspacesTable {
  id: string;
  config: string;
  config_version: number;
  created_at: number;
  updated_at: number;
}

export interface WorkspaceConfigHistoryTable {
  seq: Generated<number>;
  workspace_id: string;
  version: number;
  at: number;
  actor: string;
  config: string;
}

export interface InputsTable {
  key: string;
  workspace_id: string;
  name: string;
  secret_box: string;
  secret_hash: string;
  allow_key_only: number;
  /** 1: the key opens the device sync API only (the app's key, HT-9). */
  sync_only: number;
  created_at: number;
  revoked_at: number | null;
}

export interface AdminTokensTable {
  id: string;
  name: string;
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface ProfilesTable {
  mpid: string;
  scope_id: string;
  environment: string;
  created_at: number;
  first_seen_at: number;
  last_seen_at: number;
  orphaned_at: number | null;
  deleted_at: number | null;
}

export interface IdentitiesTable {
  id: Generated<number>;
  scope_id: string;
  environment: string;
  identity_type: string;
  value: string;
  mpid: string;
  is_unique: number;
}

export interface RequestsTable {
  seq: Generated<number>;
  scope_id: string;
  request_id: string;
  kind: string;
  environment: string;
  fingerprint: string;
  at: number;
  actor: string;
  mpids: string;
  status: number;
  response: string;
  trace: string;
}

/**
 * One accepted request in the compact log what-if replays (LS-6): an IDSync API request's body as
 * sent, or a pointer (`device_id`, `device_seq`) to a device request in `device_requests`, with
 * the answer it got. No trace, no response.
 */
export interface RequestLogTable {
  seq: Generated<number>;
  scope_id: string;
  at: number;
  source: 'api' | 'device';
  device_id: string | null;
  device_seq: number | null;
  request_id: string;
  kind: string;
  environment: string;
  /** JSON: identify/login/logout and alias bodies as sent; a modify's `{ mpid, body }`; null for a device request. */
  body: string | null;
  mpid: string | null;
  created: number;
  branch: string | null;
  error: string | null;
}

export interface RequestProfilesTable {
  scope_id: string;
  request_id: string;
  mpid: string;
}

export interface HistoryTable {
  seq: Generated<number>;
  at: number;
  scope_id: string;
  environment: string;
  kind: string;
  mpid: string;
  identity_type: string | null;
  value: string | null;
  other_mpid: string | null;
  alias_id: string | null;
  request_id: string | null;
  actor: string;
  reason: string;
}

export interface AliasesTable {
  scope_id: string;
  id: string;
  environment: string;
  source_mpid: string;
  destination_mpid: string;
  start_ms: number;
  end_ms: number;
  scope: string;
  device_application_stamp: string | null;
  requested_at: number;
  due_at: number;
  status: string;
  status_reason: string | null;
  processed_at: number | null;
  previous_destination_first_seen_at: number | null;
}

export interface DevicesTable {
  id: string;
  workspace_id: string;
  input_key: string;
  name: string;
  das: string;
  secret_hash: string;
  next_seq: number;
  created_at: number;
  last_seen_at: number;
  revoked_at: number | null;
}

export interface DeviceRequestsTable {
  device_id: string;
  seq: number;
  request_id: string;
  kind: string;
  /** The request document as the device pushed it (JSON). */
  doc: string;
  /** The body after `previous_mpid` and MPIDs were translated to canonical ones (JSON). */
  resolved_body: string;
  provisional_mpid: string | null;
  canonical_mpid: string | null;
  status: string;
  /**
   * The server result (JSON). Its `trace` is null when the identity store keeps the request's trace
   * (`requests.trace` of the same request id): read back with it (SPEC DR-8).
   */
  result: string;
  received_at: number;
}

export interface DeviceViewsTable {
  device_id: string;
  mpid: string;
}

export interface DeviceSuppliedTable {
  device_id: string;
  environment: string;
  identity_type: string;
  value: string;
}

export interface ChangeLogTable {
  seq: Generated<number>;
  device_id: string;
  kind: string;
  key: string;
}

export interface EventsTable {
  device_id: string;
  id: string;
  request_id: string;
  type: string;
  name: string;
  data: string;
  at: number;
  received_at: number;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface Database {
  workspaces: WorkspacesTable;
  workspace_config_history: WorkspaceConfigHistoryTable;
  inputs: InputsTable;
  admin_tokens: AdminTokensTable;
  profiles: ProfilesTable;
  identities: IdentitiesTable;
  requests: RequestsTable;
  request_profiles: RequestProfilesTable;
  request_log: RequestLogTable;
  history: HistoryTable;
  aliases: AliasesTable;
  schema_migrations: SchemaMigrationsTable;
  devices: DevicesTable;
  device_requests: DeviceRequestsTable;
  device_views: DeviceViewsTable;
  device_supplied: DeviceSuppliedTable;
  change_log: ChangeLogTable;
  events: EventsTable;
}
