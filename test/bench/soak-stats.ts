/**
 * What the soak benchmark measures: latencies and failures per kind of call, and a once-a-second
 * sample of the server process (RSS from /proc/<pid>/status, CPU from /proc/<pid>/stat) and of
 * this client process.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export interface Failure {
  readonly kind: string;
  readonly detail: string;
}

export interface KindSummary {
  readonly kind: string;
  readonly count: number;
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Every call the soak makes, timed, by kind; a failure keeps its detail (the answer's body) for the report. */
export class Recorder {
  private readonly latencies = new Map<string, number[]>();
  private readonly errorCounts = new Map<string, number>();
  readonly failures: Failure[] = [];

  record(kind: string, ms: number): void {
    const list = this.latencies.get(kind);
    if (list === undefined) this.latencies.set(kind, [ms]);
    else list.push(ms);
  }

  fail(kind: string, detail: string): void {
    this.errorCounts.set(kind, (this.errorCounts.get(kind) ?? 0) + 1);
    if (this.failures.length < 1000) this.failures.push({ kind, detail });
  }

  /** Times `call`; a thrown error is a failure of that kind. */
  async time<T>(kind: string, call: () => Promise<T>): Promise<T | undefined> {
    const started = performance.now();
    try {
      const value = await call();
      this.record(kind, performance.now() - started);
      return value;
    } catch (error) {
      this.fail(kind, (error as Error).message);
      return undefined;
    }
  }

  get calls(): number {
    let n = 0;
    for (const list of this.latencies.values()) n += list.length;
    return n;
  }

  get errors(): number {
    let n = 0;
    for (const count of this.errorCounts.values()) n += count;
    return n;
  }

  summary(seconds: number): KindSummary[] {
    const kinds = new Set([...this.latencies.keys(), ...this.errorCounts.keys()]);
    return [...kinds].sort().map((kind) => {
      const sorted = [...(this.latencies.get(kind) ?? [])].sort((a, b) => a - b);
      return {
        kind,
        count: sorted.length,
        perSec: sorted.length / seconds,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
        p99Ms: percentile(sorted, 99),
        errors: this.errorCounts.get(kind) ?? 0,
      };
    });
  }
}

export interface Sample {
  /** Seconds since the soak started. */
  readonly t: number;
  readonly serverRssMb: number;
  /** Server CPU seconds (user + system) used since it started. */
  readonly serverCpuSec: number;
  readonly clientRssMb: number;
  readonly clientCpuSec: number;
}

/** Linux reports CPU times in clock ticks; 100 per second on every platform Node supports. */
const TICKS_PER_SECOND = 100;

export function sampleProcesses(serverPid: number, t: number): Sample {
  const status = readFileSync(`/proc/${serverPid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1] ?? Number.NaN);
  // Fields after the command name, which is in parentheses and may contain spaces.
  const stat = readFileSync(`/proc/${serverPid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const client = process.cpuUsage();
  return {
    t,
    serverRssMb: rssKb / 1024,
    serverCpuSec: (Number(stat[11]) + Number(stat[12])) / TICKS_PER_SECOND,
    clientRssMb: process.memoryUsage.rss() / (1024 * 1024),
    clientCpuSec: (client.user + client.system) / 1e6,
  };
}

/** Least-squares slope of y over x (units of y per unit of x); 0 with fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanX = points.reduce((s, p) => s + p.x, 0) / n;
  const meanY = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - meanX) * (p.y - meanY);
    den += (p.x - meanX) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Node flags that let `liveHeapMb` ask the server for a heap snapshot, written into `dir`. */
export function heapSnapshotFlags(dir: string): string[] {
  return ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The server's live heap in MB: a heap snapshot (started with `heapSnapshotFlags`) runs a full
 * garbage collection first, so the sum of its objects' sizes is what is still reachable, unlike RSS,
 * which also holds garbage V8 has not collected yet. The server stalls while it writes the snapshot.
 */
export async function liveHeapMb(pid: number, dir: string): Promise<number> {
  const snapshots = () => readdirSync(dir).filter((name) => name.endsWith('.heapsnapshot'));
  const before = new Set(snapshots());
  process.kill(pid, 'SIGUSR2');
  for (let waited = 0; waited < 120_000; waited += 250) {
    await sleep(250);
    const file = snapshots().find((name) => !before.has(name));
    if (file === undefined) continue;
    const full = path.join(dir, file);
    let snapshot: { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
    try {
      snapshot = JSON.parse(readFileSync(full, 'utf8')) as typeof snapshot;
    } catch {
      continue; // still being written
    }
    rmSync(full);
    const fields = snapshot.snapshot.meta.node_fields;
    const selfSize = fields.indexOf('self_size');
    let bytes = 0;
    for (let i = selfSize; i < snapshot.nodes.length; i += fields.length) bytes += snapshot.nodes[i] ?? 0;
    return bytes / (1024 * 1024);
  }
  throw new Error('the server wrote no heap snapshot within 120 s');
}
