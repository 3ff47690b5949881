/**
 * The open device event streams (SPEC HC-1..HC-3): tells the streams of a workspace that something
 * changed, and bounds how many are open. A device beyond its own cap keeps its new stream and loses
 * its oldest (a device reconnecting after a network drop is never locked out by its own half-dead
 * stream); an input key or the server beyond its cap refuses new streams, since closing other
 * devices' streams would let one caller evict everyone. Revoking a device or an input closes its
 * streams at once, and closing the server closes them all.
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

export class SyncStreams {
  /** In opening order, so the first of a device's streams is its oldest. */
  private readonly open = new Set<StreamHandle>();

  constructor(private readonly limits: StreamLimits) {}

  get size(): number {
    return this.open.size;
  }

  notify(workspaceId: string): void {
    for (const stream of this.open) if (stream.workspaceId === workspaceId) stream.notify();
  }

  /**
   * Registers a stream, or says why it may not open. On success the answer removes the stream
   * again (for when its connection closes); removing twice is harmless.
   */
  admit(stream: StreamHandle): Result<() => void, ApiError> {
    const all = [...this.open];
    const ofDevice = all.filter((s) => s.deviceId === stream.deviceId);
    const evicted = ofDevice.slice(0, Math.max(0, ofDevice.length + 1 - this.limits.perDevice));
    const ofInput = all.filter((s) => s.inputKey === stream.inputKey && !evicted.includes(s));
    if (ofInput.length >= this.limits.perInput)
      return err(
        apiError('RATE_LIMITED', `this input key holds its maximum of ${this.limits.perInput} event streams`),
      );
    if (all.length - evicted.length >= this.limits.total)
      return err(
        apiError('UNAVAILABLE', `the server holds its maximum of ${this.limits.total} event streams`),
      );
    for (const old of evicted) this.end(old);
    this.open.add(stream);
    return ok(() => this.open.delete(stream));
  }

  closeDevice(deviceId: string): void {
    for (const stream of [...this.open]) if (stream.deviceId === deviceId) this.end(stream);
  }

  closeInput(inputKey: string): void {
    for (const stream of [...this.open]) if (stream.inputKey === inputKey) this.end(stream);
  }

  closeAll(): void {
    for (const stream of [...this.open]) this.end(stream);
  }

  private end(stream: StreamHandle): void {
    if (this.open.delete(stream)) stream.close();
  }
}
