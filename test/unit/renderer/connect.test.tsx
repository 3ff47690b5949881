// @vitest-environment happy-dom
/**
 * First run and settings: stay local-only, a connect link, the central server's bootstrap, and
 * connection failures said in words with nothing lost.
 */
import { cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../../shared/device/sync.ts';
import { openHarness, type Harness } from './harness.tsx';

let harness: Harness | null = null;

afterEach(async () => {
  cleanup();
  await harness?.close();
  harness = null;
  localStorage.clear();
});

function storedConnection(): unknown {
  const text = localStorage.getItem('identity-sync:connection');
  return text === null ? null : JSON.parse(text);
}

describe('first run', () => {
  it('a device never set up asks first; "Stay local-only" opens the field screen and is remembered', async () => {
    harness = await openHarness({ connection: null });
    harness.renderApp('#/');
    expect(await screen.findByRole('heading', { name: 'Set up this device' })).toBeTruthy();
    await userEvent
      .setup({ delay: null })
      .click(await screen.findByRole('button', { name: 'Stay local-only' }));
    expect(await screen.findByRole('heading', { name: 'Current person' })).toBeTruthy();
    expect(storedConnection()).toEqual({ kind: 'local' });
  });

  it('served by the central server, the app connects with no set-up', async () => {
    harness = await openHarness({
      connection: null,
      bootstrap: {
        serverUrl: 'https://ids.example.com/',
        apiKey: 'browser-key',
        workspace: { id: 'ws1', name: 'Flagship store' },
      },
    });
    harness.renderApp('#/');
    expect(await screen.findByRole('heading', { name: 'Current person' })).toBeTruthy();
    expect(screen.getByText('Flagship store')).toBeTruthy();
    expect(storedConnection()).toEqual({
      kind: 'server',
      serverUrl: 'https://ids.example.com',
      apiKey: 'browser-key',
      workspaceName: 'Flagship store',
    });
  });

  it('a connect link fills in the server and key and connects', async () => {
    harness = await openHarness({ connection: null });
    harness.renderApp('#/connect?server=https%3A%2F%2Fids.example.com&key=link-key');
    expect(await screen.findByRole('heading', { name: 'Current person' })).toBeTruthy();
    expect(harness.client.connects).toBe(1);
    expect(storedConnection()).toMatchObject({ serverUrl: 'https://ids.example.com', apiKey: 'link-key' });
  });

  it('a bad address, a refused key and an unreachable server are said in words; nothing typed is lost', async () => {
    harness = await openHarness({ connection: null });
    harness.renderApp('#/connect');
    const user = userEvent.setup({ delay: null });
    const address = await screen.findByLabelText('Server address');
    await user.type(address, 'ids.example');
    await user.type(screen.getByLabelText('Input key', { exact: false }), 'wrong-key');
    await user.click(screen.getByRole('button', { name: 'Connect' }));
    expect(
      screen.getByText('Enter a web address starting with http:// or https://, like https://ids.example.com'),
    ).toBeTruthy();

    await user.clear(address);
    await user.type(address, 'https://ids.example.com');
    harness.client.connectError = new SyncError('POST /sync/v1/devices answered 401: bad key', 401);
    await user.click(screen.getByRole('button', { name: 'Connect' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The server did not accept this input key. Check the key with your administrator.',
    );
    expect(address).toHaveProperty('value', 'https://ids.example.com');
    expect(screen.getByLabelText('Input key', { exact: false })).toHaveProperty('value', 'wrong-key');
    expect(storedConnection()).toBeNull();

    harness.client.connectError = new SyncError('the server is unreachable: fetch failed', null);
    await user.click(screen.getByRole('button', { name: 'Connect' }));
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toBe(
        'The server cannot be reached. Check the address and your connection; everything stays on this device and syncs later.',
      ),
    );

    harness.client.connectError = null;
    await user.click(screen.getByRole('button', { name: 'Connect' }));
    expect(await screen.findByRole('heading', { name: 'Current person' })).toBeTruthy();
  });
  it("[S2-6] a server that does not speak this app's sync protocol says to update the app", async () => {
    harness = await openHarness({ connection: null });
    harness.renderApp('#/connect');
    const user = userEvent.setup({ delay: null });
    await user.type(await screen.findByLabelText('Server address'), 'https://ids.example.com');
    await user.type(screen.getByLabelText('Input key', { exact: false }), 'key');
    harness.client.connectError = new SyncError(
      'GET /sync/v1/config answered 400: this app speaks sync protocol 0, too old for the server (this server speaks sync protocol 1–3): update the app',
      400,
      'SYNC_PROTOCOL_UNSUPPORTED',
    );
    await user.click(screen.getByRole('button', { name: 'Connect' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(
      /^This app cannot sync with this server until it is updated\. Update the app/,
    );
    expect(storedConnection()).toBeNull();
  });
});

describe('settings', () => {
  it('shows the connection and whether storage is persistent, and disconnects', async () => {
    harness = await openHarness({
      connection: { kind: 'server', serverUrl: 'https://ids.example.com', apiKey: 'k', workspaceName: null },
      online: false,
    });
    harness.renderApp('#/connect');
    expect(await screen.findByRole('heading', { name: 'Settings' })).toBeTruthy();
    expect(screen.getByText('Connected to https://ids.example.com.')).toBeTruthy();
    expect(
      screen.getByText('Storage is persistent: the browser will not clear what is recorded here.'),
    ).toBeTruthy();
    await userEvent
      .setup({ delay: null })
      .click(screen.getByRole('button', { name: 'Disconnect and stay local-only' }));
    expect(await screen.findByRole('heading', { name: 'Current person' })).toBeTruthy();
    expect(screen.getByText('Local only: not connected to a server')).toBeTruthy();
    expect(storedConnection()).toEqual({ kind: 'local' });
  });
});
