/**
 * The main window's bounds and maximised state, kept in `window-state.json` in userData.
 *
 * The file is parsed with zod; a missing, unreadable or corrupt file gives the defaults. Saved
 * bounds are kept only if enough of the window (a title bar's worth) is on some display's work
 * area — a monitor may have been unplugged since — and are then clamped into that display;
 * otherwise the defaults apply. The file is written atomically (temp file, then rename).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const WINDOW_STATE_FILE = 'window-state.json';
export const MIN_WIDTH = 800;
export const MIN_HEIGHT = 560;
/** How much of a saved window must be visible on a display to restore it where it was. */
const MIN_VISIBLE = 64;

const Dimension = z.number().int().min(0).max(100_000);
const Coordinate = z.number().int().min(-100_000).max(100_000);

const WindowStateSchema = z.object({
  x: Coordinate,
  y: Coordinate,
  width: Dimension,
  height: Dimension,
  isMaximized: z.boolean(),
});

export type SavedWindowState = z.infer<typeof WindowStateSchema>;

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** What the window opens with: no position means "let the OS centre it". */
export type WindowState =
  | { readonly width: number; readonly height: number; readonly isMaximized: boolean }
  | (Rect & { readonly isMaximized: boolean });

export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 800, isMaximized: false };

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

function clampInto(rect: Rect, area: Rect): Rect {
  const width = Math.min(Math.max(rect.width, MIN_WIDTH), area.width);
  const height = Math.min(Math.max(rect.height, MIN_HEIGHT), area.height);
  return {
    x: Math.min(Math.max(rect.x, area.x), area.x + area.width - width),
    y: Math.min(Math.max(rect.y, area.y), area.y + area.height - height),
    width,
    height,
  };
}

/** Pure: the state to open with, from the file's text (null: no file) and the displays' work areas. */
export function restoreWindowState(text: string | null, workAreas: readonly Rect[]): WindowState {
  if (text === null) return DEFAULT_WINDOW_STATE;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return DEFAULT_WINDOW_STATE;
  }
  const parsed = WindowStateSchema.safeParse(json);
  if (!parsed.success) return DEFAULT_WINDOW_STATE;
  const saved = parsed.data;
  const host = workAreas.find((area) => {
    const visible = overlap(saved, area);
    return visible.width >= MIN_VISIBLE && visible.height >= MIN_VISIBLE;
  });
  if (host === undefined) return DEFAULT_WINDOW_STATE;
  return { ...clampInto(saved, host), isMaximized: saved.isMaximized };
}

export async function loadWindowState(userData: string, workAreas: readonly Rect[]): Promise<WindowState> {
  const text = await readFile(path.join(userData, WINDOW_STATE_FILE), 'utf8').catch(() => null);
  return restoreWindowState(text, workAreas);
}

export async function saveWindowState(userData: string, state: SavedWindowState): Promise<void> {
  const file = path.join(userData, WINDOW_STATE_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(WindowStateSchema.parse(state)), 'utf8');
  await rename(temporary, file);
}
