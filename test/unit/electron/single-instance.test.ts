/** One running copy (SPEC ES-11). */
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { claimSingleInstance } from '../../../electron/main/single-instance.ts';

class FakeApp extends EventEmitter {
  constructor(private readonly hasLock: boolean) {
    super();
  }
  readonly quit = vi.fn();
  requestSingleInstanceLock(): boolean {
    return this.hasLock;
  }
}

const fakeWindow = (minimized: boolean) => ({
  isMinimized: () => minimized,
  restore: vi.fn(),
  show: vi.fn(),
  focus: vi.fn(),
});

describe('ES-11 single instance', () => {
  it('quits when another instance holds the lock, and listens for nothing', () => {
    const app = new FakeApp(false);
    expect(claimSingleInstance(app, () => null)).toBe(false);
    expect(app.quit).toHaveBeenCalledTimes(1);
    expect(app.listenerCount('second-instance')).toBe(0);
  });

  it('a second launch restores and focuses the existing window', () => {
    const app = new FakeApp(true);
    const window = fakeWindow(true);
    expect(claimSingleInstance(app, () => window)).toBe(true);
    expect(app.quit).not.toHaveBeenCalled();
    app.emit('second-instance');
    expect(window.restore).toHaveBeenCalledTimes(1);
    expect(window.show).toHaveBeenCalledTimes(1);
    expect(window.focus).toHaveBeenCalledTimes(1);
  });

  it('a second launch before any window exists does nothing', () => {
    const app = new FakeApp(true);
    claimSingleInstance(app, () => null);
    expect(() => app.emit('second-instance')).not.toThrow();
  });

  it('does not restore a window that is not minimised', () => {
    const app = new FakeApp(true);
    const window = fakeWindow(false);
    claimSingleInstance(app, () => window);
    app.emit('second-instance');
    expect(window.restore).not.toHaveBeenCalled();
    expect(window.focus).toHaveBeenCalledTimes(1);
  });
});
