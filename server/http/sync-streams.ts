/**
 * The open device event streams (SPEC HC-1..HC-3): tells the streams of a workspace that something
 * changed, and bounds how many are open. A device beyond its own cap keeps its new stream and loses
 * its oldest (a device reconnecting after a network drop is never locked out by its own half-dead
 * stream); an input key or the server beyond its cap refuses new streams, since closing other
 * devices' streams would let one caller evict everyone. Revoking a device or an input closes its
 * streams at once, and closing the server closes them all.
 *
 * Notifications are coalesced (HC-7): every write of a workspace marks it changed, and once per
 * turn of the event loop each stream of a changed workspace is told once. A burst of writes costs
 * each device one message and one pull, not one per write, and a write costs O(1) however many
 * streams are open; streams are indexed by workspace, device and input key.
 */
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import { err, ok, type Result } from '../../shared/util/result.ts';

export interface StreamLimits {
  readonly perDevice: number;
  readonly perInput: number;
  readonly total: number;
}

/** One open stream: who opened it, how to tell it to pull, and how to end it. */
export interface StreamHandle {
  readonly deviceId: string;
  readonly inputKey: string;
  readonly workspaceId: string;
  readonly notify: () => void;
  /** Ends the stream and its connection (called at most once, by `SyncStreams`). */
  readonly close: () => void;
}

/** Sets of streams by key; an emptied set is dropped so the maps hold only live keys. */
class StreamIndex {
  private readonly byKey = new Map<string, Set<StreamHandle>>();

  add(key: string, stream: StreamHandle): void {
    const set = this.byKey.get(key);
    if (set === undefined) this.byKey.set(key, new Set([stream]));
    else set.add(stream);
  }

  delete(key: string, stream: StreamHandle): void {
    const set = this.byKey.get(key);
    if (set === undefined) return;
    set.delete(stream);
    if (set.size === 0) this.byKey.delete(key);
  }

  /** The streams under `key`, oldest first (sets keep insertion order). */
  of(key: string): readonly StreamHandle[] {
    return [...(this.byKey.get(key) ?? [])];
  }

  count(key: string): number {
    return this.byKey.get(key)?.size ?? 0;
  }
}

export class SyncStreams {
  private readonly open = new Set<StreamHandle>();
  private readonly byWorkspace = new StreamIndex();
  private readonly byDevice = new StreamIndex();
  private readonly byInput = new StreamIndex();
  private readonly changed = new Set<string>();
  private flush: NodeJS.Immediate | null = null;

  constructor(private readonly limits: StreamLimits) {}

  get size(): number {
    return this.open.size;
  }

  /** Marks the workspace changed; its streams are told once, at the end of this event-loop turn. */
  notify(workspaceId: string): void {
    this.changed.add(workspaceId);
    this.flush ??= setImmediate(() => this.tellChanged());
  }

  /**
   * Registers a stream, or says why it may not open. On success the answer removes the stream
   * again (for when its connection closes); removing twice is harmless.
   */
  admit(stream: StreamHandle): Result<() => void, ApiError> {
    const ofDevice = this.byDevice.of(stream.deviceId);
    const evicted = ofDevice.slice(0, Math.max(0, ofDevice.length + 1 - this.limits.perDevice));
    const sameInput = evicted.filter((s) => s.inputKey === stream.inputKey).length;
    if (this.byInput.count(stream.inputKey) - sameInput >= this.limits.perInput)
      return err(
        apiError('RATE_LIMITED', `this input key holds its maximum of ${this.limits.perInput} event streams`),
      );
    if (this.open.size - evicted.length >= this.limits.total)
      return err(
        apiError('UNAVAILABLE', `the server holds its maximum of ${this.limits.total} event streams`),
      );
    for (const old of evicted) this.end(old);
    this.open.add(stream);
    this.byWorkspace.add(stream.workspaceId, stream);
    this.byDevice.add(stream.deviceId, stream);
    this.byInput.add(stream.inputKey, stream);
    return ok(() => this.remove(stream));
  }

  closeDevice(deviceId: string): void {
    for (const stream of this.byDevice.of(deviceId)) this.end(stream);
  }

  closeInput(inputKey: string): void {
    for (const stream of this.byInput.of(inputKey)) this.end(stream);
  }

  closeAll(): void {
    if (this.flush !== null) clearImmediate(this.flush);
    this.flush = null;
    this.changed.clear();
    for (const stream of [...this.open]) this.end(stream);
  }

  private tellChanged(): void {
    this.flush = null;
    const workspaces = [...this.changed];
    this.changed.clear();
    for (const workspaceId of workspaces)
      for (const stream of this.byWorkspace.of(workspaceId)) stream.notify();
  }

  private remove(stream: StreamHandle): boolean {
    if (!this.open.delete(stream)) return false;
    this.byWorkspace.delete(stream.workspaceId, stream);
    this.byDevice.delete(stream.deviceId, stream);
    this.byInput.delete(stream.inputKey, stream);
    return true;
  }

  private end(stream: StreamHandle): void {
    if (this.remove(stream)) stream.close();
  }
}
