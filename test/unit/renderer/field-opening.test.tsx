// @vitest-environment happy-dom
/**
 * The Field screen before the device's storage is open (SPEC UP-6, UP-7): it renders at once, says
 * it is reading the storage (never "no one yet" or "no people yet" before it knows), and a login
 * submitted meanwhile is recorded as soon as the engine is open. The people panel follows the
 * people once for its count and its list.
 */
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { defer, firstValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEngine } from '../../../shared/device/engine.ts';
import { App } from '../../../renderer/src/app/App.tsx';
import { OpeningEngine } from '../../../renderer/src/app/opening-engine.ts';
import { CONFIG, giveElementsASize, harnessPerTest, type Harness } from './harness.tsx';

const { open } = harnessPerTest();

beforeAll(giveElementsASize);

const READING = 'Reading this device’s storage…';

/** The app rendered over an engine that opens when the test says so. */
function renderOpening(harness: Harness): { openEngine: () => void } {
  let openEngine = () => {};
  const opening = new Promise<DeviceEngine>((resolve) => {
    openEngine = () => resolve(harness.engine);
  });
  const engine = new OpeningEngine(opening, CONFIG);
  window.location.hash = '#/';
  render(<App services={{ ...harness.services, engine, storageOpen$: engine.open$ }} />);
  return { openEngine };
}

describe('Field screen while the device opens', () => {
  it('[UP-6] renders before the storage is open, and records a login submitted meanwhile once it is', async () => {
    const harness = await open();
    const { openEngine } = renderOpening(harness);
    const card = within(await screen.findByRole('region', { name: 'Current person' }));
    expect(card.getByText(READING)).toBeTruthy();
    expect(
      within(screen.getByRole('region', { name: 'People on this device' })).getByText(READING),
    ).toBeTruthy();
    expect(screen.queryByText('No people yet')).toBeNull();
    expect(screen.queryByText(/^No one yet/)).toBeNull();
    expect(screen.queryByText('Nothing recorded yet')).toBeNull();

    const user = userEvent.setup({ delay: null });
    await user.type(screen.getByLabelText('Customer ID'), 'c-1');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect((await firstValueFrom(harness.engine.status$)).pendingRequests).toBe(0);

    openEngine();
    expect(await card.findByText('c-1')).toBeTruthy();
    expect(await screen.findByText('Logged in.')).toBeTruthy();
    const list = await screen.findByRole('listbox', { name: 'People on this device' });
    await waitFor(() => expect(within(list).getAllByRole('option')).toHaveLength(1));
    expect(screen.queryByText(READING)).toBeNull();
  });

  it('[UP-7] the people panel follows the people once for its count and its list', async () => {
    const harness = await open();
    let subscriptions = 0;
    const people$ = defer(() => {
      subscriptions += 1;
      return harness.engine.people$;
    });
    window.location.hash = '#/';
    render(<App services={{ ...harness.services, engine: countingPeople(harness.engine, people$) }} />);
    harness.sync.start();
    await harness.engine.login({ customerid: 'c-2' });
    const list = await screen.findByRole('listbox', { name: 'People on this device' });
    await waitFor(() => expect(within(list).getAllByRole('option')).toHaveLength(1));
    expect(screen.getByText('1 person')).toBeTruthy();
    expect(subscriptions).toBe(1);
  });
});

/** The engine with its people view replaced (the rest calls through). */
function countingPeople(engine: DeviceEngine, people$: DeviceEngine['people$']): DeviceEngine {
  return new Proxy(engine, {
    get: (target, key) => (key === 'people$' ? people$ : (Reflect.get(target, key, target) as unknown)),
  });
}
