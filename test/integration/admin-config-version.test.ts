/**
 * Config saves carry the version the admin edited (SPEC AA-9, AA-10), on SQLite and PostgreSQL: a
 * save whose `expected_version` is no longer current is refused with 409 `CONFLICT` and changes
 * nothing, so two admins saving at once never silently overwrite each other.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import { ConfigHistorySchema, WorkspaceConfigSchema } from '../../shared/protocol/admin-config.ts';
import { ErrorBodySchema } from '../../shared/protocol/errors.ts';
import { SERVER_BACKENDS, testDatabase } from '../helpers/postgres.ts';
import { admin, startTestServer, type TestServer } from '../helpers/server.ts';

const CONVERSION: ScopeConfigInput = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'ios_idfv'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
};
const ISOLATION: ScopeConfigInput = { ...CONVERSION, strategy: 'profile_isolation' };
const LINK: ScopeConfigInput = { ...CONVERSION, strategy: 'profile_link' };

describe.each(SERVER_BACKENDS)('config save version check on $name', ({ name, skip }) => {
  let server: TestServer;
  let dropSchema: (() => Promise<void>) | null = null;

  beforeEach(async (context) => {
    if (skip !== null) context.skip();
    const database = await testDatabase(name);
    dropSchema = database.drop;
    server = await startTestServer({ config: CONVERSION, ...database.options });
  });
  afterEach(async () => {
    await server?.close();
    await dropSchema?.();
    dropSchema = null;
  });

  const save = (config: ScopeConfigInput, expected?: number | string) =>
    admin<unknown>(
      server.url,
      'PUT',
      `/workspaces/default/config${expected === undefined ? '' : `?expected_version=${expected}`}`,
      config,
    );
  const current = async () =>
    WorkspaceConfigSchema.parse((await admin(server.url, 'GET', '/workspaces/default/config')).body);
  const history = async () =>
    ConfigHistorySchema.parse((await admin(server.url, 'GET', '/workspaces/default/config/history')).body)
      .history;

  it('[AA-9] a save naming the current version is taken and answers the next version', async () => {
    const { version } = await current();
    const saved = await save(ISOLATION, version);
    expect(saved.status).toBe(200);
    expect(WorkspaceConfigSchema.parse(saved.body).version).toBe(version + 1);
    expect((await current()).config.strategy).toBe('profile_isolation');
  });

  it('[AA-10] a stale version is 409 CONFLICT naming both versions, and nothing changes', async () => {
    const { version } = await current();
    expect((await save(ISOLATION, version)).status).toBe(200);
    const before = { config: await current(), history: await history() };
    const stale = await save(LINK, version);
    expect(stale.status).toBe(409);
    const error = ErrorBodySchema.parse(stale.body).errors[0];
    expect(error).toMatchObject({ code: 'BAD_REQUEST', reason: 'CONFLICT', path: 'expected_version' });
    expect(error?.message).toContain(`version ${version}`);
    expect(error?.message).toContain(`now version ${version + 1}`);
    expect({ config: await current(), history: await history() }).toEqual(before);
  });

  it('[AA-10] two admins saving the same version at once: exactly one save is taken', async () => {
    const { version } = await current();
    const answers = await Promise.all([save(ISOLATION, version), save(LINK, version)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const taken = answers[answers[0]?.status === 200 ? 0 : 1];
    const now = await current();
    expect(now).toEqual(WorkspaceConfigSchema.parse(taken?.body));
    expect((await history()).map((h) => h.version)).toEqual([version + 1, version]);
  });

  it('[AA-10] a malformed expected version is 400 and changes nothing', async () => {
    const before = await current();
    for (const bad of ['0', 'abc', '1.5', '-1']) {
      const answer = await save(ISOLATION, bad);
      expect(answer.status).toBe(400);
      expect(ErrorBodySchema.parse(answer.body).errors[0]).toMatchObject({ path: 'expected_version' });
    }
    expect(await current()).toEqual(before);
  });

  it('[AA-9] a save without an expected version still replaces the config (scripts, CLI)', async () => {
    const { version } = await current();
    expect((await save(ISOLATION)).status).toBe(200);
    expect((await current()).version).toBe(version + 1);
  });
});
