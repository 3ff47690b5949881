/**
 * The soak's traffic. Three kinds run side by side until the stop signal:
 *
 * - IDSync callers: a fixed number of workers, each sending one request at a time, cycling through
 *   a fixed mix of identify, login, logout, modify, search and a search that finds nobody, over a
 *   bounded population (so the database and every profile stay bounded too).
 * - Simulated devices (the real device engine on RxDB's memory storage, as the app runs it): each
 *   cycle records an anonymous identify, events, a login and a modify offline, syncs once, logs
 *   out and moves on to the next person, then pauses.
 * - Server-sent event streams held open by devices for the whole run.
 *
 * Every answer is checked: an unexpected status, body or device notice is a failure with its
 * detail. An answer that is expected to be an error (a search for nobody: 404) is not.
 */
import { ScopeConfigSchema } from '../../shared/identity/scope-config.ts';
import { openDevice, type SimulatedDevice } from '../../simulator/devices.ts';
import type { Recorder } from './soak-stats.ts';

export const KEY = 'us1-soak-key';
export const CONFIG_INPUT = {
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'device_application_stamp'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
} as const;
const CONFIG = ScopeConfigSchema.parse(CONFIG_INPUT);

type HttpKind = 'identify' | 'login' | 'logout' | 'modify' | 'search' | 'search-miss';
/** The IDSync mix, one slot per request: 30% identify, 20% login, 10% logout, 10% modify, 25% search, 5% misses. */
const MIX: readonly HttpKind[] = (
  [
    ['identify', 6],
    ['login', 4],
    ['logout', 2],
    ['modify', 2],
    ['search', 5],
    ['search-miss', 1],
  ] as const
).flatMap(([kind, n]) => Array.from({ length: n }, () => kind));

const JSON_HEADERS = { 'content-type': 'application/json', 'x-mp-key': KEY };

async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
}

function identityBody(identities: Record<string, string>) {
  return { environment: 'production', known_identities: identities };
}

/** Logs in `profiles` people (16 at a time) and returns each one's MPID, for modify. */
export async function populate(url: string, profiles: number): Promise<string[]> {
  const mpids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < profiles) {
      const k = next++;
      const answer = await post(
        `${url}/v1/login`,
        identityBody({
          customerid: `c${k}`,
          email: `u${k}@example.com`,
          device_application_stamp: `das${k}`,
        }),
      );
      if (answer.status !== 200) throw new Error(`populate failed: ${answer.status} ${answer.text}`);
      mpids[k] = (JSON.parse(answer.text) as { mpid: string }).mpid;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return mpids;
}

/** One IDSync request of the mix, for profile `k`; `n` counts requests (so modify alternates). */
function request(kind: HttpKind, k: number, n: number, mpids: readonly string[]) {
  switch (kind) {
    case 'identify':
      return {
        path: '/v1/identify',
        body: identityBody({ customerid: `c${k}`, device_application_stamp: `das${k}` }),
        expect: 200,
      };
    case 'login':
      return {
        path: '/v1/login',
        body: identityBody({
          customerid: `c${k}`,
          email: `u${k}@example.com`,
          device_application_stamp: `das${k}`,
        }),
        expect: 200,
      };
    case 'logout':
      return {
        path: '/v1/logout',
        body: identityBody({ device_application_stamp: `soak-anonymous-${k}` }),
        expect: 200,
      };
    case 'modify':
      return {
        path: `/v1/${mpids[k]}/modify`,
        body: {
          environment: 'production',
          identity_changes: [
            {
              identity_type: 'email',
              old_value: null,
              new_value: n % 2 === 0 ? `u${k}+changed@example.com` : `u${k}@example.com`,
            },
          ],
        },
        expect: 200,
      };
    case 'search':
      return { path: '/v1/search', body: identityBody({ customerid: `c${k}` }), expect: 200 };
    case 'search-miss':
      return { path: '/v1/search', body: identityBody({ customerid: `nobody-${n}` }), expect: 404 };
  }
}

/** `workers` IDSync callers, one request in flight each, until `stop` aborts. */
export async function idsyncCallers(
  url: string,
  workers: number,
  mpids: readonly string[],
  recorder: Recorder,
  stop: AbortSignal,
): Promise<void> {
  let n = 0;
  const worker = async () => {
    while (!stop.aborted) {
      const count = n++;
      const kind = MIX[count % MIX.length] as HttpKind;
      const k = (count * 7919) % mpids.length;
      const call = request(kind, k, count, mpids);
      const started = performance.now();
      try {
        const answer = await post(`${url}${call.path}`, call.body);
        if (answer.status === call.expect) recorder.record(kind, performance.now() - started);
        else recorder.fail(kind, `POST ${call.path} answered ${answer.status}: ${answer.text.slice(0, 400)}`);
      } catch (error) {
        recorder.fail(kind, `POST ${call.path} failed: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

/** GET /healthz with the same client and concurrency, for `seconds`: the no-op floor. */
export async function noopFloor(url: string, workers: number, seconds: number): Promise<number> {
  let count = 0;
  const ends = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < ends) {
      const response = await fetch(`${url}/healthz`);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`/healthz answered ${response.status}`);
      count += 1;
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return count / seconds;
}

/** A fetch that times each device sync call by route and records unexpected answers with their body. */
function recordingFetch(recorder: Recorder): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const kind = `sync ${init?.method ?? 'GET'} ${url.pathname.replace(/^\/sync\/v[12]\//, '')}`;
    const started = performance.now();
    const response = await fetch(input, init);
    if (response.ok) recorder.record(kind, performance.now() - started);
    else
      recorder.fail(
        kind,
        `${kind} answered ${response.status}: ${(await response.clone().text()).slice(0, 400)}`,
      );
    return response;
  };
}

export interface Fleet {
  readonly devices: readonly SimulatedDevice[];
  /** Runs every device's cycles until `stop` aborts. */
  run(stop: AbortSignal): Promise<void>;
  /** One last sync per device; then every request any device recorded must have been applied. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function openFleet(options: {
  readonly url: string;
  readonly devices: number;
  readonly eventsPerCycle: number;
  readonly pauseMs: number;
  readonly recorder: Recorder;
}): Promise<Fleet> {
  const { recorder } = options;
  const devices: SimulatedDevice[] = [];
  for (let d = 0; d < options.devices; d += 1) {
    const device = await openDevice({
      name: `soak${d}`,
      seed: 1000 + d,
      clock: { now: () => Date.now() },
      config: CONFIG,
      endpoint: { baseUrl: options.url, apiKey: KEY, fetch: recordingFetch(recorder) },
    });
    await device.sync.connect();
    devices.push(device);
  }
  const answered = (kind: string, outcome: { ok: boolean; error?: { message: string } } | undefined) => {
    if (outcome !== undefined && !outcome.ok) recorder.fail(kind, outcome.error?.message ?? 'refused');
  };
  const sync = async (device: SimulatedDevice) => {
    const notices = await recorder.time('device sync round', () => device.sync.syncOnce());
    for (const notice of notices ?? [])
      if (notice.kind === 'failed' || notice.kind === 'rejected')
        recorder.fail('device sync round', `${device.name}: ${notice.message}`);
  };
  const cycle = async (device: SimulatedDevice, d: number, c: number) => {
    const { engine } = device;
    answered('device identify', await recorder.time('device identify', () => engine.identify({})));
    for (let e = 0; e < options.eventsPerCycle; e += 1)
      await recorder.time('device event', () => engine.track(`soak-event-${e % 4}`, { n: e }));
    answered(
      'device login',
      await recorder.time('device login', () => engine.login({ customerid: `soak-device-${d}-${c}` })),
    );
    answered(
      'device modify',
      await recorder.time('device modify', () =>
        engine.modify([{ identityType: 'email', oldValue: null, newValue: `device-${d}-${c}@example.com` }]),
      ),
    );
    await sync(device);
    answered('device logout', await recorder.time('device logout', () => engine.logout()));
    await engine.nextPerson();
  };
  return {
    devices,
    async run(stop) {
      await Promise.all(
        devices.map(async (device, d) => {
          for (let c = 0; !stop.aborted; c += 1) {
            await cycle(device, d, c);
            await sleep(options.pauseMs);
          }
        }),
      );
    },
    async settle() {
      for (const device of devices) {
        await sync(device);
        for (const request of await device.engine.requests())
          if (request.server?.status !== 'applied')
            recorder.fail(
              'device request applied',
              `${device.name}: ${request.kind} ${request.requestId} is ${request.server?.status ?? 'not answered'}: ${request.server?.error?.message ?? ''}`,
            );
      }
    },
    async close() {
      for (const device of devices) await device.close();
    },
  };
}

export interface StreamCounts {
  resyncs: number;
}

/**
 * Holds the device's server-sent event stream open until `stop` aborts, counting the RESYNC
 * messages it receives; a stream that fails to open or ends before the stop is a failure.
 */
export async function holdStream(
  url: string,
  device: SimulatedDevice,
  recorder: Recorder,
  counts: StreamCounts,
  stop: AbortSignal,
): Promise<void> {
  const credential = (
    await device.db.getLocal<{ device_id: string; device_secret: string }>('credential')
  )?.toJSON().data;
  if (credential === undefined) throw new Error(`${device.name} has not registered`);
  try {
    const response = await fetch(`${url}/sync/v1/stream`, {
      headers: {
        'x-mp-key': KEY,
        authorization: `Device ${credential.device_id}:${credential.device_secret}`,
      },
      signal: stop,
    });
    if (response.status !== 200 || response.body === null) {
      recorder.fail('stream', `the stream answered ${response.status}: ${await response.text()}`);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let carry = '';
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      const lines = (carry + decoder.decode(read.value, { stream: true })).split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) if (line === 'data: RESYNC') counts.resyncs += 1;
    }
    if (!stop.aborted) recorder.fail('stream', `${device.name}'s stream ended before the run did`);
  } catch (error) {
    if (!stop.aborted) recorder.fail('stream', `${device.name}'s stream failed: ${(error as Error).message}`);
  }
}
