/**
 * A device in its own process, for the crash-safety tests: its database lives in a folder (RxDB
 * localstorage storage on FileLocalStorage), so killing the process loses only what was never
 * written. Run with `node --import tsx test/helpers/device-process.ts <json args>`.
 *
 *   work:   record identity calls and events, then sync; `killAt` makes the process SIGKILL itself
 *           at that point of the sync (`push-sent`: the server got the push but the device never
 *           reads the answer; `before-push`: nothing reached the server; `after-record`: right
 *           after the last write, before any sync)
 *   resume: reopen the database, report what is pending, sync, and report again
 *
 * Prints one JSON line per report on stdout.
 */
import { getRxStorageLocalstorage } from 'rxdb/plugins/storage-localstorage';
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { openDevice } from '../../simulator/devices.ts';
import { FileLocalStorage } from './file-local-storage.ts';

interface Args {
  readonly phase: 'work' | 'resume';
  readonly dir: string;
  readonly url: string;
  readonly apiKey: string;
  readonly config: unknown;
  readonly seed: number;
  readonly killAt?: 'after-record' | 'before-push' | 'push-sent';
  readonly customers?: number;
  readonly eventsPerCustomer?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const die = () => process.kill(process.pid, 'SIGKILL');

const faultyFetch: typeof fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  // A v2 device pushes requests and events in its round (`/sync/v2/round`).
  const pushes = url.includes('/sync/v2/round');
  if (pushes && args.killAt === 'before-push') die();
  const response = await fetch(input, init);
  if (pushes && args.killAt === 'push-sent') {
    await response.text();
    die();
  }
  return response;
};

const device = await openDevice({
  name: 'crash',
  seed: args.seed,
  clock: { now: () => Date.now() },
  config: ScopeConfigSchema.parse(args.config),
  storage: getRxStorageLocalstorage({ localStorage: new FileLocalStorage(args.dir) }),
  databaseName: 'crashdevice',
  endpoint: { baseUrl: args.url, apiKey: args.apiKey, fetch: args.phase === 'work' ? faultyFetch : fetch },
});

async function report(label: string): Promise<void> {
  const requests = await device.engine.requests();
  const events = await device.db.events.find().exec();
  process.stdout.write(
    `${JSON.stringify({
      label,
      deviceId: device.engine.deviceId,
      requests: requests.map((r) => ({ id: r.requestId, seq: r.seq, status: r.server?.status ?? null })),
      events: events.map((e) => e.id),
    })}\n`,
  );
}

if (args.phase === 'work') {
  for (let c = 0; c < (args.customers ?? 3); c += 1) {
    await device.engine.identify({});
    await device.engine.login({ customerid: `crash-${args.seed}-${c}` });
    for (let e = 0; e < (args.eventsPerCustomer ?? 4); e += 1) await device.engine.track(`event-${c}-${e}`);
    await device.engine.logout();
  }
  await report('recorded');
  if (args.killAt === 'after-record') die();
  await device.sync.syncOnce();
  await report('synced');
} else {
  await report('reopened');
  await device.sync.syncOnce();
  await report('synced');
}
await device.close();
