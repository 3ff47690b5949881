/**
 * Workspaces, their scope configs (with a config history), input credentials and admin tokens.
 * A workspace is one identity scope: its id is the scope id.
 */
import { sql, type Kysely } from 'kysely';
import { ScopeConfigSchema, type ScopeConfig } from '../../shared/identity/scope-config.ts';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import { parseWith } from '../../shared/protocol/parse.ts';
import type { Actor } from '../../shared/resolver/records.ts';
import { err, ok, type Result } from '../../shared/util/result.ts';
import type { InputCredential } from '../auth/authenticate.ts';
import { newApiKey, randomToken, sha256Hex, type ServerKey } from '../auth/secrets.ts';
import type { DatabaseHandle } from './connect.ts';
import type { Database } from './schema.ts';

export interface WorkspaceSummary {
  readonly id: string;
  readonly strategy: string;
  readonly configVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface InputSummary {
  readonly key: string;
  readonly name: string;
  readonly allowKeyOnly: boolean;
  readonly syncOnly: boolean;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** How an input authenticates (the key alone, or Basic/HMAC only) and which APIs it opens. */
export interface InputAccess {
  readonly allowKeyOnly: boolean;
  /** The device sync API only, never the IDSync API (HT-9). */
  readonly syncOnly?: boolean;
}

export interface AdminTokenSummary {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

function inputFromRow(row: {
  key: string;
  workspace_id: string;
  secret_box: string;
  secret_hash: string;
  allow_key_only: number;
  sync_only: number;
  revoked_at: number | null;
}): InputCredential {
  return {
    key: row.key,
    workspaceId: row.workspace_id,
    secretBox: row.secret_box,
    secretHash: row.secret_hash,
    allowKeyOnly: row.allow_key_only === 1,
    syncOnly: row.sync_only === 1,
    revoked: row.revoked_at !== null,
  };
}

export class WorkspaceStore {
  constructor(
    private readonly handle: DatabaseHandle,
    private readonly serverKey: ServerKey,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Kysely<Database> {
    return this.handle.db;
  }

  async list(): Promise<WorkspaceSummary[]> {
    const rows = await this.db.selectFrom('workspaces').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      strategy: (JSON.parse(r.config) as ScopeConfig).strategy,
      configVersion: r.config_version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async get(id: string): Promise<{ config: ScopeConfig; version: number } | null> {
    const row = await this.db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined
      ? null
      : { config: ScopeConfigSchema.parse(JSON.parse(row.config)), version: row.config_version };
  }

  async create(
    input: unknown,
    actor: Actor,
  ): Promise<Result<{ config: ScopeConfig; version: number }, ApiError>> {
    const parsed = parseWith(ScopeConfigSchema, input, 'INVALID_CONFIG');
    if (!parsed.ok) return parsed;
    const config = parsed.value;
    const at = this.now();
    return this.db.transaction().execute(async (trx) => {
      const exists = await trx
        .selectFrom('workspaces')
        .select('id')
        .where('id', '=', config.scopeId)
        .executeTakeFirst();
      if (exists !== undefined)
        return err(apiError('CONFLICT', `workspace ${config.scopeId} already exists`, 'scopeId'));
      const text = JSON.stringify(config);
      await trx
        .insertInto('workspaces')
        .values({ id: config.scopeId, config: text, config_version: 1, created_at: at, updated_at: at })
        .execute();
      await trx
        .insertInto('workspace_config_history')
        .values({ workspace_id: config.scopeId, version: 1, at, actor: JSON.stringify(actor), config: text })
        .execute();
      return ok({ config, version: 1 });
    });
  }

  /**
   * Replaces a workspace's config. Types that become unique are checked first: if any value is
   * already held by two live profiles the change is refused with the conflicts listed, so the
   * database's unique index never has to reject data it already holds. With `expectedVersion`
   * (AA-9) the save is taken only if that is still the current version, checked on the row the
   * transaction holds, so two saves of one version never both succeed.
   */
  async updateConfig(
    id: string,
    input: unknown,
    actor: Actor,
    expectedVersion?: number,
  ): Promise<Result<{ config: ScopeConfig; version: number }, ApiError>> {
    const parsed = parseWith(ScopeConfigSchema, input, 'INVALID_CONFIG');
    if (!parsed.ok) return parsed;
    const config = parsed.value;
    if (config.scopeId !== id) {
      return err(
        apiError('INVALID_CONFIG', `scopeId must stay "${id}"; a workspace cannot be renamed`, 'scopeId'),
      );
    }
    const at = this.now();
    return this.db.transaction().execute(async (trx) => {
      let query = trx.selectFrom('workspaces').selectAll().where('id', '=', id);
      if (this.handle.dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      if (row === undefined) return err(apiError('NOT_FOUND', `no workspace ${id}`));
      if (expectedVersion !== undefined && expectedVersion !== row.config_version) {
        return err(
          apiError(
            'CONFLICT',
            `the config was changed by someone else since version ${expectedVersion} was read: it is now version ${row.config_version}. Reload it and make the change again.`,
            'expected_version',
          ),
        );
      }
      const previous = ScopeConfigSchema.parse(JSON.parse(row.config));
      const nowUnique = config.uniqueIdentities.filter((t) => !previous.uniqueIdentities.includes(t));
      const noLongerUnique = previous.uniqueIdentities.filter((t) => !config.uniqueIdentities.includes(t));
      if (nowUnique.length > 0) {
        const duplicates = await trx
          .selectFrom('identities')
          .select(['environment', 'identity_type', 'value', sql<number>`count(*)`.as('holders')])
          .where('scope_id', '=', id)
          .where('identity_type', 'in', nowUnique)
          .groupBy(['environment', 'identity_type', 'value'])
          .having(sql`count(*)`, '>', 1)
          .limit(20)
          .execute();
        if (duplicates.length > 0) {
          const list = duplicates.map(
            (d) => `${d.environment} ${d.identity_type}=${d.value} (${d.holders} profiles)`,
          );
          return err(
            apiError(
              'CONFLICT',
              `cannot make ${nowUnique.join(', ')} unique: values held by several profiles: ${list.join('; ')}. Repair them with modify first.`,
              'uniqueIdentities',
            ),
          );
        }
        await trx
          .updateTable('identities')
          .set({ is_unique: 1 })
          .where('scope_id', '=', id)
          .where('identity_type', 'in', nowUnique)
          .execute();
      }
      if (noLongerUnique.length > 0) {
        await trx
          .updateTable('identities')
          .set({ is_unique: 0 })
          .where('scope_id', '=', id)
          .where('identity_type', 'in', noLongerUnique)
          .execute();
      }
      const version = row.config_version + 1;
      const text = JSON.stringify(config);
      await trx
        .updateTable('workspaces')
        .set({ config: text, config_version: version, updated_at: at })
        .where('id', '=', id)
        .execute();
      await trx
        .insertInto('workspace_config_history')
        .values({ workspace_id: id, version, at, actor: JSON.stringify(actor), config: text })
        .execute();
      return ok({ config, version });
    });
  }

  async configHistory(
    id: string,
  ): Promise<{ version: number; at: number; actor: Actor; config: ScopeConfig }[]> {
    const rows = await this.db
      .selectFrom('workspace_config_history')
      .selectAll()
      .where('workspace_id', '=', id)
      .orderBy('seq', 'desc')
      .execute();
    return rows.map((r) => ({
      version: r.version,
      at: r.at,
      actor: JSON.parse(r.actor) as Actor,
      config: ScopeConfigSchema.parse(JSON.parse(r.config)),
    }));
  }

  /**
   * Creates an input credential. The secret is returned here once; the database keeps its hash and
   * a copy sealed under the server key (for HMAC verification).
   */
  async createInput(
    workspaceId: string,
    name: string,
    access: InputAccess,
    fixed?: { key: string; secret: string },
  ): Promise<Result<{ key: string; secret: string }, ApiError>> {
    const workspace = await this.db
      .selectFrom('workspaces')
      .select('id')
      .where('id', '=', workspaceId)
      .executeTakeFirst();
    if (workspace === undefined) return err(apiError('NOT_FOUND', `no workspace ${workspaceId}`));
    const key = fixed?.key ?? newApiKey();
    const secret = fixed?.secret ?? randomToken(32);
    const existing = await this.db
      .selectFrom('inputs')
      .select('key')
      .where('key', '=', key)
      .executeTakeFirst();
    if (existing !== undefined) return err(apiError('CONFLICT', `API key ${key} already exists`));
    await this.db
      .insertInto('inputs')
      .values({
        key,
        workspace_id: workspaceId,
        name,
        secret_box: this.serverKey.seal(secret, key),
        secret_hash: sha256Hex(secret),
        allow_key_only: access.allowKeyOnly ? 1 : 0,
        sync_only: access.syncOnly === true ? 1 : 0,
        created_at: this.now(),
        revoked_at: null,
      })
      .execute();
    return ok({ key, secret });
  }

  async listInputs(workspaceId: string): Promise<InputSummary[]> {
    const rows = await this.db
      .selectFrom('inputs')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      key: r.key,
      name: r.name,
      allowKeyOnly: r.allow_key_only === 1,
      syncOnly: r.sync_only === 1,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  async revokeInput(workspaceId: string, key: string): Promise<boolean> {
    const result = await this.db
      .updateTable('inputs')
      .set({ revoked_at: this.now() })
      .where('workspace_id', '=', workspaceId)
      .where('key', '=', key)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Gives an active input a new secret (AA-7) and returns it, once. The key stays; the old secret's
   * hash and sealed copy are overwritten in the same statement, so it opens nothing afterwards.
   */
  async rotateInputSecret(
    workspaceId: string,
    key: string,
  ): Promise<Result<{ key: string; secret: string }, ApiError>> {
    const secret = randomToken(32);
    const rotated = await this.db
      .updateTable('inputs')
      .set({ secret_box: this.serverKey.seal(secret, key), secret_hash: sha256Hex(secret) })
      .where('workspace_id', '=', workspaceId)
      .where('key', '=', key)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(rotated.numUpdatedRows) > 0) return ok({ key, secret });
    const existing = await this.db
      .selectFrom('inputs')
      .select('key')
      .where('workspace_id', '=', workspaceId)
      .where('key', '=', key)
      .executeTakeFirst();
    return err(
      existing === undefined
        ? apiError('NOT_FOUND', `no input ${key} in ${workspaceId}`)
        : apiError('CONFLICT', `input ${key} was revoked; a revoked input cannot be rotated`),
    );
  }

  async findInput(key: string): Promise<InputCredential | null> {
    const row = await this.db.selectFrom('inputs').selectAll().where('key', '=', key).executeTakeFirst();
    return row === undefined ? null : inputFromRow(row);
  }

  async createAdminToken(name: string, fixedToken?: string): Promise<{ id: string; token: string }> {
    const token = fixedToken ?? `adm_${randomToken(32)}`;
    const id = randomToken(9);
    await this.db
      .insertInto('admin_tokens')
      .values({ id, name, token_hash: sha256Hex(token), created_at: this.now(), revoked_at: null })
      .execute();
    return { id, token };
  }

  async listAdminTokens(): Promise<AdminTokenSummary[]> {
    const rows = await this.db.selectFrom('admin_tokens').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, revokedAt: r.revoked_at }));
  }

  async revokeAdminToken(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('admin_tokens')
      .set({ revoked_at: this.now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Whether an admin token with this value exists, and whether it was revoked. */
  async adminTokenStatus(token: string): Promise<'live' | 'revoked' | 'absent'> {
    const row = await this.db
      .selectFrom('admin_tokens')
      .select('revoked_at')
      .where('token_hash', '=', sha256Hex(token))
      .executeTakeFirst();
    if (row === undefined) return 'absent';
    return row.revoked_at === null ? 'live' : 'revoked';
  }

  /**
   * Whether the server key opens the input secrets stored here (HT-6). Every input is sealed under
   * the same key, so the oldest one answers for all; a database without inputs has nothing to open.
   */
  async opensStoredSecrets(): Promise<boolean> {
    const row = await this.db
      .selectFrom('inputs')
      .select(['key', 'secret_box'])
      .orderBy('created_at')
      .orderBy('key')
      .executeTakeFirst();
    return row === undefined || this.serverKey.open(row.secret_box, row.key) !== null;
  }

  /** The admin token with this value, if it exists and is not revoked. */
  async findAdminToken(token: string): Promise<AdminTokenSummary | null> {
    const row = await this.db
      .selectFrom('admin_tokens')
      .selectAll()
      .where('token_hash', '=', sha256Hex(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row === undefined
      ? null
      : { id: row.id, name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at };
  }

  async hasAdminTokens(): Promise<boolean> {
    const row = await this.db
      .selectFrom('admin_tokens')
      .select('id')
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }
}
