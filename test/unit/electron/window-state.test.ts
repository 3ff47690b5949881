/**
 * Window bounds restored from userData (SPEC ES-10): corrupt or off-screen state gives the
 * defaults, saved state is clamped into the display it is on, and saving round-trips.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_WINDOW_STATE,
  loadWindowState,
  restoreWindowState,
  saveWindowState,
  WINDOW_STATE_FILE,
} from '../../../electron/main/window-state.ts';

const LAPTOP = { x: 0, y: 0, width: 1440, height: 875 };
const EXTERNAL = { x: 1440, y: 0, width: 2560, height: 1415 };

describe('ES-10 restoring the window', () => {
  it.each<[string, string | null]>([
    ['no file', null],
    ['empty file', ''],
    ['not JSON', '{"x": 1,'],
    ['JSON null', 'null'],
    ['an array', '[0,0,800,600]'],
    ['a missing field', '{"x":0,"y":0,"width":900}'],
    ['strings for numbers', '{"x":"0","y":0,"width":900,"height":700,"isMaximized":false}'],
    ['fractions', '{"x":0.5,"y":0,"width":900,"height":700,"isMaximized":false}'],
    ['absurd sizes', '{"x":0,"y":0,"width":1e9,"height":700,"isMaximized":false}'],
    ['NaN-like', '{"x":0,"y":0,"width":900,"height":700,"isMaximized":"yes"}'],
  ])('%s gives the defaults', (_name, text) => {
    expect(restoreWindowState(text, [LAPTOP])).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('keeps a window that is on a display', () => {
    const saved = { x: 100, y: 50, width: 1000, height: 700, isMaximized: false };
    expect(restoreWindowState(JSON.stringify(saved), [LAPTOP, EXTERNAL])).toEqual(saved);
  });

  it('keeps a window on the second display, and its maximised flag', () => {
    const saved = { x: 1600, y: 100, width: 1200, height: 900, isMaximized: true };
    expect(restoreWindowState(JSON.stringify(saved), [LAPTOP, EXTERNAL])).toEqual(saved);
  });

  it('a window left on an unplugged monitor gives the defaults', () => {
    const saved = { x: 1600, y: 100, width: 1200, height: 900, isMaximized: false };
    expect(restoreWindowState(JSON.stringify(saved), [LAPTOP])).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('a window with only a sliver on screen gives the defaults', () => {
    const saved = { x: 1400, y: 0, width: 1000, height: 700, isMaximized: false };
    expect(restoreWindowState(JSON.stringify(saved), [LAPTOP])).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('a window hanging off the edge is moved and shrunk into the display', () => {
    const saved = { x: 1000, y: -200, width: 2000, height: 1200, isMaximized: false };
    expect(restoreWindowState(JSON.stringify(saved), [LAPTOP])).toEqual({
      x: 0,
      y: 0,
      width: 1440,
      height: 875,
      isMaximized: false,
    });
  });

  it('a tiny saved window grows to the minimum size', () => {
    const saved = { x: 10, y: 10, width: 100, height: 100, isMaximized: false };
    expect(restoreWindowState(JSON.stringify(saved), [LAPTOP])).toEqual({
      x: 10,
      y: 10,
      width: 800,
      height: 560,
      isMaximized: false,
    });
  });

  it('no displays at all gives the defaults', () => {
    expect(
      restoreWindowState(JSON.stringify({ x: 0, y: 0, width: 900, height: 700, isMaximized: false }), []),
    ).toEqual(DEFAULT_WINDOW_STATE);
  });
});

describe('ES-10 the state file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'window-state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips through userData', async () => {
    const state = { x: 40, y: 30, width: 1024, height: 768, isMaximized: true };
    await saveWindowState(dir, state);
    expect(JSON.parse(await readFile(path.join(dir, WINDOW_STATE_FILE), 'utf8'))).toEqual(state);
    expect(await loadWindowState(dir, [LAPTOP])).toEqual(state);
  });

  it('a missing or corrupt file loads as the defaults', async () => {
    expect(await loadWindowState(dir, [LAPTOP])).toEqual(DEFAULT_WINDOW_STATE);
    await writeFile(path.join(dir, WINDOW_STATE_FILE), '\u0000garbage');
    expect(await loadWindowState(dir, [LAPTOP])).toEqual(DEFAULT_WINDOW_STATE);
  });
});
