/**
 * The server CLI as users run it (`npm start` runs this bundle): it starts on the embedded default,
 * prints its URL and the bootstrap credentials, answers, and shuts down cleanly on SIGTERM/SIGINT.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUNDLE = path.join(ROOT, 'dist', 'server.mjs');
const dirs: string[] = [];

beforeAll(() => {
  const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-server.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(build.status, build.stderr).toBe(0);
});

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'idsync-cli-'));
  dirs.push(dir);
  return dir;
}

function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BUNDLE, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 15 s:\n${stdout}\n${stderr}`)), 15_000);
    child.stdout.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${stdout}\n${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, listening, exited, output: () => ({ stdout, stderr }) };
}

function stop(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals) {
  child.kill(signal);
}

describe('server CLI', () => {
  it('[CLI-1] [AP-9] starts on SQLite in the data folder, prints URL, credentials once, the app URL and a connect link, serves, and stops on SIGTERM', async () => {
    const dataDir = tempDir();
    const run = start(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    const url = await run.listening;
    const { stdout } = run.output();
    const key = /API key: (\S+)/.exec(stdout)?.[1];
    expect(stdout).toMatch(/API secret \(shown once\): \S+/);
    expect(stdout).toMatch(/admin token \(shown once\): adm_\S+/);
    const bootstrap = (await (await fetch(`${url}/app/bootstrap.json`)).json()) as { apiKey: string };
    expect(stdout).toContain(`\napp: ${url}/app/\n`);
    expect(stdout).toContain(
      `\nconnect another device: ${url}/app/#/connect?server=${encodeURIComponent(url)}&key=${bootstrap.apiKey}\n`,
    );
    const response = await fetch(`${url}/v1/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mp-key': key ?? '' },
      body: JSON.stringify({
        environment: 'production',
        known_identities: { device_application_stamp: 'cli' },
      }),
    });
    expect(response.status).toBe(200);
    stop(run.child, 'SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toContain('SIGTERM: finishing in-flight requests');
    expect(existsSync(path.join(dataDir, 'identity-sync.sqlite'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'server.key'))).toBe(true);

    const again = start(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    await again.listening;
    expect(again.output().stdout).not.toContain('shown once');
    // The app's key-only input is kept across restarts: connected devices stay connected.
    expect(/connect another device: \S+&key=(\S+)/.exec(again.output().stdout)?.[1]).toBe(bootstrap.apiKey);
    stop(again.child, 'SIGINT');
    expect(await again.exited).toBe(0);
  });

  it('[CLI-2] takes the workspace config from a file and credentials from the environment', async () => {
    const dataDir = tempDir();
    const config = path.join(dataDir, 'workspace.json');
    writeFileSync(
      config,
      JSON.stringify({
        scopeId: 'shop',
        strategy: 'profile_link',
        identityPriority: ['customerid', 'email', 'device_application_stamp'],
        loginIdentities: ['customerid', 'email'],
        uniqueIdentities: ['customerid', 'email'],
      }),
    );
    const run = start(['--port', '0', '--config', config], {
      IDSYNC_DATA_DIR: dataDir,
      IDSYNC_ADMIN_TOKEN: 'env-admin-token-123456',
      IDSYNC_API_KEY: 'us1-env-key',
      IDSYNC_API_SECRET: 'env-secret-1234567890',
      IDSYNC_LOG_LEVEL: 'silent',
    });
    const url = await run.listening;
    expect(run.output().stdout).toContain('workspace: shop');
    expect(run.output().stdout).not.toContain('shown once');
    const config2 = await fetch(`${url}/admin/v1/workspaces/shop/config`, {
      headers: { authorization: 'Bearer env-admin-token-123456' },
    });
    expect(((await config2.json()) as { config: { strategy: string } }).config.strategy).toBe('profile_link');
    const basic = Buffer.from('us1-env-key:env-secret-1234567890').toString('base64');
    const login = await fetch(`${url}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${basic}` },
      body: JSON.stringify({ environment: 'production', known_identities: { customerid: 'c1' } }),
    });
    expect(login.status).toBe(200);
    stop(run.child, 'SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('[CLI-3] --help prints the usage; bad options and bad config files exit 2 with a readable error', () => {
    const help = spawnSync(process.execPath, [BUNDLE, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--database <target>');
    for (const flag of [
      '--app-origin <origin>',
      '--app-dir <dir>',
      '--public-url <url>',
      '--pg-pool-size <n>',
    ])
      expect(help.stdout).toContain(flag);
    const unknown = spawnSync(process.execPath, [BUNDLE, '--portt', '1'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--portt'");
    const badPort = spawnSync(process.execPath, [BUNDLE, '--port', 'eighty', '--data-dir', tempDir()], {
      encoding: 'utf8',
    });
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toContain('invalid option port');
    const badPool = spawnSync(process.execPath, [BUNDLE, '--pg-pool-size', '0', '--data-dir', tempDir()], {
      encoding: 'utf8',
    });
    expect(badPool.status).toBe(2);
    expect(badPool.stderr).toContain('invalid option pgPoolSize');
    const dir = tempDir();
    const config = path.join(dir, 'bad.json');
    writeFileSync(
      config,
      JSON.stringify({
        scopeId: 'x',
        strategy: 'best_match',
        identityPriority: ['email'],
        loginIdentities: ['email'],
        uniqueIdentities: [],
      }),
    );
    const badConfig = spawnSync(
      process.execPath,
      [BUNDLE, '--port', '0', '--data-dir', dir, '--config', config],
      { encoding: 'utf8' },
    );
    expect(badConfig.status).toBe(2);
    expect(badConfig.stderr).toContain('invalid workspace config');
    const badDb = spawnSync(
      process.execPath,
      [BUNDLE, '--port', '0', '--data-dir', dir, '--database', 'postgres://nobody:x@127.0.0.1:1/none'],
      { encoding: 'utf8' },
    );
    expect(badDb.status).toBe(2);
    expect(badDb.stderr).toContain('cannot open the database (PostgreSQL)');
  });

  it('[HL-7] the bootstrap input is a browser (key-only) input by default and says so; --input-kind server makes it Basic/HMAC only', async () => {
    const browser = start(['--port', '0', '--data-dir', tempDir(), '--log-level', 'silent']);
    await browser.listening;
    expect(browser.output().stdout).toMatch(
      /API key: \S+ \(browser input: the key alone authorises every IDSync call; --input-kind server for Basic\/HMAC only\)/,
    );
    stop(browser.child, 'SIGTERM');
    await browser.exited;

    const dataDir = tempDir();
    const args = [
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'silent',
      '--api-key',
      'us1-server-key',
    ];
    const run = start([...args, '--input-kind', 'server']);
    const url = await run.listening;
    const identify = (headers: Record<string, string>) =>
      fetch(`${url}/v1/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({
          environment: 'production',
          known_identities: { device_application_stamp: 'k' },
        }),
      });
    const { stdout } = run.output();
    expect(stdout).toMatch(/API key: us1-server-key \(server-to-server input: HTTP Basic or HMAC only\)/);
    const secret = /API secret \(shown once\): (\S+)/.exec(stdout)?.[1] ?? '';
    expect((await identify({ 'x-mp-key': 'us1-server-key' })).status).toBe(401);
    const basic = Buffer.from(`us1-server-key:${secret}`).toString('base64');
    expect((await identify({ authorization: `Basic ${basic}` })).status).toBe(200);
    stop(run.child, 'SIGTERM');
    expect(await run.exited).toBe(0);

    const mismatch = spawnSync(process.execPath, [BUNDLE, ...args, '--input-kind', 'browser'], {
      encoding: 'utf8',
    });
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toContain('API key us1-server-key is a server-to-server input');
    const help = spawnSync(process.execPath, [BUNDLE, '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('--input-kind <kind>');
  });
});

/** Runs the CLI to its exit (it is expected to refuse to start). */
function refused(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BUNDLE, '--port', '0', '--log-level', 'warn', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  });
}

/** A readable refusal: exit 2, the message, no stack trace. */
function expectReadable(run: ReturnType<typeof refused>, message: RegExp) {
  expect([run.status, run.stderr]).toEqual([2, expect.stringMatching(message)]);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe('server start-up', () => {
  it('[HT-4] restarting with an --admin-token that was revoked exits 2 and says the token was revoked', async () => {
    const dataDir = tempDir();
    const token = 'cli-admin-token-0123456789';
    const run = start(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--admin-token', token]);
    const url = await run.listening;
    const auth = { authorization: `Bearer ${token}` };
    const listed = (await (await fetch(`${url}/admin/v1/tokens`, { headers: auth })).json()) as {
      tokens: { id: string }[];
    };
    for (const { id } of listed.tokens)
      expect((await fetch(`${url}/admin/v1/tokens/${id}`, { method: 'DELETE', headers: auth })).status).toBe(
        204,
      );
    stop(run.child, 'SIGTERM');
    expect(await run.exited).toBe(0);
    expectReadable(refused(['--data-dir', dataDir, '--admin-token', token]), /admin token .*was revoked/);
  });

  it('[HT-5] a data folder that cannot be created exits 2 with a readable message', () => {
    const dir = tempDir();
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    expectReadable(refused(['--data-dir', path.join(file, 'data')]), /cannot create the data folder/);
  });

  it('[HT-5] a server key shorter than 32 bytes, in IDSYNC_SERVER_KEY or server.key, exits 2 with a readable message', () => {
    expectReadable(
      refused(['--data-dir', tempDir()], { IDSYNC_SERVER_KEY: 'c2hvcnQ' }),
      /IDSYNC_SERVER_KEY.*at least 32 bytes/,
    );
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, 'server.key'), 'c2hvcnQ\n');
    expectReadable(refused(['--data-dir', dataDir]), /server\.key.*at least 32 bytes/);
  });

  it('[HT-6] a server key that does not open the stored secrets exits 2 and says which key is expected', async () => {
    const dataDir = tempDir();
    const first = start(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    await first.listening;
    stop(first.child, 'SIGTERM');
    expect(await first.exited).toBe(0);
    const other = Buffer.alloc(32, 7).toString('base64url');
    expectReadable(
      refused(['--data-dir', dataDir], { IDSYNC_SERVER_KEY: other }),
      /IDSYNC_SERVER_KEY does not open the input secrets stored in .*server\.key/s,
    );
    writeFileSync(path.join(dataDir, 'server.key'), `${other}\n`);
    expectReadable(refused(['--data-dir', dataDir]), /server\.key does not open the input secrets/);
  });
});
