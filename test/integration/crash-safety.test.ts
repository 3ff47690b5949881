/**
 * Crash safety (SPEC SY-9, SY-10). A device process killed at any point of its work or of a sync
 * pushes, after a restart, exactly the requests and events it had recorded: none lost, none applied
 * twice. A server process killed while devices push loses nothing it acknowledged, and the devices
 * converge once it is back.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScopeConfigSchema, type ScopeConfigInput } from '../../shared/identity/scope-config.ts';
import { openDevice, type SimulatedDevice } from '../../simulator/devices.ts';
import { ADMIN_TOKEN, API_KEY, admin, startTestServer } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CONFIG: ScopeConfigInput = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
};

interface Report {
  label: string;
  deviceId: string;
  requests: { id: string; seq: number; status: string | null }[];
  events: string[];
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the device process; resolves with its reports and how it ended. */
function deviceProcess(
  args: Record<string, unknown>,
): Promise<{ reports: Report[]; signal: string | null; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'test/helpers/device-process.ts'), JSON.stringify(args)],
      { cwd: ROOT },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => {
      const reports = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Report);
      resolve({ reports, signal, code, stderr });
    });
  });
}

interface ServerExport {
  deviceRequests: { requestId: string; deviceId: string }[];
  eventCounts: Record<string, number>;
}

async function serverExport(url: string): Promise<ServerExport> {
  return (await admin<ServerExport>(url, 'GET', '/workspaces/default/export')).body;
}

describe('device crash safety', () => {
  for (const killAt of ['after-record', 'before-push', 'push-sent'] as const) {
    it(`[SY-9] a device killed ${killAt.replace('-', ' ')} pushes every request and event exactly once after a restart`, async () => {
      const server = await startTestServer({ config: CONFIG });
      cleanup.push(() => server.close());
      const dir = tempDir('idsync-crash-device-');
      const common = { dir, url: server.url, apiKey: API_KEY, config: CONFIG, seed: 7 };
      const first = await deviceProcess({
        ...common,
        phase: 'work',
        killAt,
        customers: 3,
        eventsPerCustomer: 4,
      });
      expect(first.signal, first.stderr).toBe('SIGKILL');
      const recorded = first.reports.find((r) => r.label === 'recorded');
      expect(recorded?.requests).toHaveLength(9);
      expect(recorded?.events).toHaveLength(12);

      const before = await serverExport(server.url);
      const reachedServer = before.deviceRequests.length;
      expect(reachedServer).toBe(killAt === 'push-sent' ? 9 : 0);

      const second = await deviceProcess({ ...common, phase: 'resume', seed: 8 });
      expect(second.code, second.stderr).toBe(0);
      const reopened = second.reports.find((r) => r.label === 'reopened');
      expect(reopened?.requests.map((r) => r.id)).toEqual(recorded?.requests.map((r) => r.id));
      expect(reopened?.requests.every((r) => r.status === null)).toBe(true);
      expect(reopened?.events).toEqual(recorded?.events);
      const synced = second.reports.find((r) => r.label === 'synced');
      expect(synced?.requests.map((r) => r.status)).toEqual(Array(9).fill('applied'));

      const after = await serverExport(server.url);
      const ids = after.deviceRequests.map((r) => r.requestId);
      expect(ids).toEqual(recorded?.requests.map((r) => r.id));
      expect(new Set(ids).size).toBe(ids.length);
      expect(after.eventCounts[recorded?.deviceId ?? '']).toBe(12);
    }, 60_000);
  }
});

/** The server in its own process on a SQLite file, so it can be killed. */
function serverProcess(dataDir: string, port: number): { url: Promise<string>; kill: () => Promise<void> } {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'server/cli.ts'),
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      '--admin-token',
      ADMIN_TOKEN,
      '--api-key',
      API_KEY,
      '--api-secret',
      'crash-secret-0123456789abcdef',
      '--rate-limit',
      '0',
    ],
    { cwd: ROOT },
  );
  let stdout = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${stdout}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
  });
  return {
    url,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const PER_DEVICE = 80;

describe('server crash safety', () => {
  it('[SY-10] a server killed while devices push loses nothing it acknowledged, and devices converge after it restarts', async () => {
    const dataDir = tempDir('idsync-crash-server-');
    const first = serverProcess(dataDir, 0);
    const url = await first.url;
    const port = Number(new URL(url).port);
    const devices: SimulatedDevice[] = [];
    cleanup.push(async () => {
      for (const d of devices) await d.close();
    });
    for (let i = 0; i < 3; i += 1) {
      devices.push(
        await openDevice({
          name: `d${i}`,
          seed: 100 + i,
          clock: { now: () => Date.now() },
          config: ScopeConfigSchema.parse(CONFIG),
          endpoint: { baseUrl: url, apiKey: API_KEY },
        }),
      );
    }
    for (const [i, d] of devices.entries()) {
      for (let c = 0; c < PER_DEVICE; c += 1) {
        await d.engine.login({ customerid: `s${i}-${c}` });
        await d.engine.track('order');
      }
    }
    const pushes = devices.map((d) =>
      d.sync.syncOnce().then(
        () => 'synced',
        () => 'interrupted',
      ),
    );
    let seenBeforeKill = 0;
    while (seenBeforeKill < 10) {
      seenBeforeKill = (await serverExport(url)).deviceRequests.length;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await first.kill();
    await Promise.all(pushes);
    const acknowledged = new Map<string, string[]>();
    for (const d of devices) {
      const applied = (await d.engine.requests()).filter((r) => r.server !== null).map((r) => r.requestId);
      acknowledged.set(d.engine.deviceId, applied);
    }

    const second = serverProcess(dataDir, port);
    cleanup.push(() => second.kill());
    await second.url;
    const stored = new Set((await serverExport(url)).deviceRequests.map((r) => r.requestId));
    expect(stored.size).toBeGreaterThanOrEqual(seenBeforeKill);
    expect(stored.size, 'the kill should interrupt the pushes').toBeLessThan(3 * PER_DEVICE);
    for (const ids of acknowledged.values()) for (const id of ids) expect(stored.has(id)).toBe(true);

    for (const d of devices) await d.sync.syncOnce();
    const after = await serverExport(url);
    const ids = after.deviceRequests.map((r) => r.requestId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(3 * PER_DEVICE);
    for (const d of devices) {
      expect((await d.engine.requests()).every((r) => r.server?.status === 'applied')).toBe(true);
      expect(after.eventCounts[d.engine.deviceId]).toBe(PER_DEVICE);
    }
  }, 90_000);
});
