/**
 * What a PostgreSQL benchmark run costs besides wall time (Linux): CPU time read from /proc for
 * the server process and for the PostgreSQL backends serving it (found by `application_name`),
 * and round trips, counted by a TCP proxy between a server and PostgreSQL (each simple query `Q`
 * and each extended-protocol `Sync` the server sends waits for one answer). The proxy runs in the
 * benchmark's own process, beside the load generator, and every byte to and from PostgreSQL
 * crosses it: so the measured server connects to PostgreSQL directly, and round trips are counted
 * in a pass of their own through the proxy (`countedUrl`).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';

const APPLICATION = 'idsync-bench';
const COUNTED_APPLICATION = 'idsync-bench-counted';
/** Linux clock ticks per second (`getconf CLK_TCK`), the unit of /proc/<pid>/stat times. */
const TICKS_PER_SEC = 100;

/** utime + stime of a process in microseconds; 0 when it has gone. */
export function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SEC;
  } catch {
    return 0;
  }
}

/** Counts the round trips of one client connection from the bytes it sends. */
function roundTripCounter(onRoundTrip: () => void) {
  let buffered: Buffer = Buffer.alloc(0);
  let startup = true;
  return (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    for (;;) {
      const header = startup ? 4 : 5;
      if (buffered.length < header) return;
      const length = buffered.readUInt32BE(startup ? 0 : 1) + (startup ? 0 : 1);
      if (buffered.length < length) return;
      if (startup)
        startup = buffered.readUInt32BE(4) === 80877103; // an SSL request precedes the startup
      else if (buffered[0] === 0x51 || buffered[0] === 0x53) onRoundTrip(); // 'Q', 'S'
      buffered = buffered.subarray(length);
    }
  };
}

export interface CostSample {
  readonly serverCpuUs: number;
  /** CPU time of each PostgreSQL backend serving the server, by pid (µs). */
  readonly backends: ReadonlyMap<number, number>;
}

/** Per request between two samples: server CPU and PostgreSQL CPU (µs). */
export function perRequest(before: CostSample, after: CostSample, requests: number) {
  let postgresCpuUs = 0;
  for (const [pid, cpu] of after.backends) postgresCpuUs += cpu - (before.backends.get(pid) ?? 0);
  const per = (n: number, digits: number) => Number((n / Math.max(1, requests)).toFixed(digits));
  return {
    serverCpuUs: per(after.serverCpuUs - before.serverCpuUs, 0),
    postgresCpuUs: per(postgresCpuUs, 0),
  };
}

export interface PgCosts {
  /** The URL for the measured server: PostgreSQL itself, with the name `sample` finds its backends by. */
  readonly url: string;
  /** The URL for a server whose round trips are counted: through the proxy. */
  readonly countedUrl: string;
  sample(serverPid: number): Promise<CostSample>;
  /** Round trips through the proxy so far. */
  roundTrips(): number;
  close(): Promise<void>;
}

export async function pgCosts(url: string): Promise<PgCosts> {
  const target = new URL(url);
  const port = Number(target.port || 5432);
  // A URL may name PostgreSQL's Unix socket folder (`?host=/var/run/postgresql`) instead of a host.
  const socketFolder = target.searchParams.get('host');
  const upstreamAddress: net.NetConnectOpts = socketFolder?.startsWith('/')
    ? { path: `${socketFolder}/.s.PGSQL.${port}` }
    : { port, host: target.hostname };
  let roundTrips = 0;
  const proxy = net.createServer((client) => {
    const upstream = net.connect(upstreamAddress);
    const count = roundTripCounter(() => roundTrips++);
    client.on('data', (chunk: Buffer) => {
      count(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.searchParams.delete('host');
  proxied.port = String((proxy.address() as net.AddressInfo).port);
  proxied.searchParams.set('application_name', COUNTED_APPLICATION);
  const direct = new URL(url);
  direct.searchParams.set('application_name', APPLICATION);
  const monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
  return {
    url: direct.toString(),
    countedUrl: proxied.toString(),
    roundTrips: () => roundTrips,
    async sample(serverPid) {
      const { rows } = await monitor.query<{ pid: number }>(
        'select pid from pg_stat_activity where application_name = $1',
        [APPLICATION],
      );
      const backends = new Map(rows.map((r) => [r.pid, cpuMicros(r.pid)]));
      return { serverCpuUs: cpuMicros(serverPid), backends };
    },
    async close() {
      await monitor.end();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
