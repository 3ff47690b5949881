/**
 * The stream registry on its own (SPEC HC-1..HC-3, HC-7): caps, eviction order, closing by device
 * and input, and notifications coalesced per event-loop turn.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SyncStreams, type StreamHandle } from '../../../server/http/sync-streams.ts';

interface Probe extends StreamHandle {
  readonly name: string;
  told: number;
  closed: boolean;
}

function probe(name: string, deviceId: string, inputKey = 'key', workspaceId = 'ws'): Probe {
  const p: Probe = {
    name,
    deviceId,
    inputKey,
    workspaceId,
    told: 0,
    closed: false,
    notify: () => (p.told += 1),
    close: () => (p.closed = true),
  };
  return p;
}

const limits = { perDevice: 2, perInput: 3, total: 4 };

describe('SyncStreams', () => {
  it('[HC-7] a burst of writes tells each stream of the workspace once, after the turn, and no other workspace', async () => {
    const streams = new SyncStreams(limits);
    const a = probe('a', 'd1');
    const b = probe('b', 'd2');
    const other = probe('other', 'd3', 'key-2', 'ws-2');
    for (const s of [a, b, other]) expect(streams.admit(s).ok).toBe(true);
    for (let i = 0; i < 50; i++) streams.notify('ws');
    expect([a.told, b.told]).toEqual([0, 0]);
    await turn();
    expect([a.told, b.told, other.told]).toEqual([1, 1, 0]);
    streams.notify('ws');
    await turn();
    expect([a.told, b.told, other.told]).toEqual([2, 2, 0]);
  });

  it('[HC-1] a device beyond its cap loses its oldest stream, and only that one', () => {
    const streams = new SyncStreams(limits);
    const [first, second, third] = [probe('1', 'd1'), probe('2', 'd1'), probe('3', 'd1')];
    for (const s of [first, second, third]) expect(streams.admit(s).ok).toBe(true);
    expect([first.closed, second.closed, third.closed]).toEqual([true, false, false]);
    expect(streams.size).toBe(2);
  });

  it('[HC-2] an input key and the server beyond their caps refuse new streams and close none', () => {
    const streams = new SyncStreams(limits);
    const held = ['a', 'b', 'c'].map((d) => probe(d, d));
    for (const s of held) expect(streams.admit(s).ok).toBe(true);
    const refused = streams.admit(probe('d', 'd'));
    expect(refused.ok ? null : refused.error.code).toBe('RATE_LIMITED');
    expect(streams.admit(probe('e', 'e', 'key-2')).ok).toBe(true);
    const full = streams.admit(probe('f', 'f', 'key-3'));
    expect(full.ok ? null : full.error.code).toBe('UNAVAILABLE');
    expect(held.map((s) => s.closed)).toEqual([false, false, false]);
  });

  it('[HC-2] a device replacing its own stream at the input cap is not refused', () => {
    const streams = new SyncStreams({ perDevice: 1, perInput: 1, total: 10 });
    const old = probe('old', 'd1');
    expect(streams.admit(old).ok).toBe(true);
    expect(streams.admit(probe('new', 'd1')).ok).toBe(true);
    expect(old.closed).toBe(true);
  });

  it('[HC-3] closing a device or an input ends its streams; a closed stream is never told again', async () => {
    const streams = new SyncStreams({ perDevice: 4, perInput: 10, total: 10 });
    const ofDevice = probe('dev', 'd1');
    const ofInput = probe('input', 'd2', 'key-2');
    const kept = probe('kept', 'd3');
    for (const s of [ofDevice, ofInput, kept]) expect(streams.admit(s).ok).toBe(true);
    streams.notify('ws');
    streams.closeDevice('d1');
    streams.closeInput('key-2');
    await turn();
    expect([ofDevice.closed, ofInput.closed, kept.closed]).toEqual([true, true, false]);
    expect([ofDevice.told, ofInput.told, kept.told]).toEqual([0, 0, 1]);
    expect(streams.size).toBe(1);
  });

  it('[HC-3] a stream removed by its connection closing frees its place; removing twice is harmless', () => {
    const streams = new SyncStreams({ perDevice: 4, perInput: 1, total: 10 });
    const admitted = streams.admit(probe('a', 'd1'));
    if (!admitted.ok) throw new Error('refused');
    admitted.value();
    admitted.value();
    expect(streams.size).toBe(0);
    expect(streams.admit(probe('b', 'd2')).ok).toBe(true);
  });
});
