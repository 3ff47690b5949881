/**
 * Connections a caller can hold open (SPEC HC-1..HC-4): event streams are capped per device, per
 * input key and in total, and closed when their device or input is revoked; slow clients are cut
 * off by the header, request and keep-alive timeouts, while event streams outlive the request
 * timeout. Every wait here is for an event (a close, a line), never a measured duration.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, call, startTestServer, type TestServer } from '../helpers/server.ts';
import { registerDevice } from '../helpers/sync-wire.ts';

let servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers) await server.close();
  servers = [];
});

async function serve(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

interface OpenedStream {
  readonly status: number;
  readonly body: string;
  /** Resolves when the server closes the stream (or its connection). */
  readonly closed: Promise<void>;
  /** Resolves once the stream has carried `text`. */
  received(text: string): Promise<void>;
  destroy(): void;
}

/** Opens `/sync/v1/stream` on a connection of its own and reads it as it arrives. */
function openStream(base: string, headers: Record<string, string>): Promise<OpenedStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${base}/sync/v1/stream`, { headers, agent: false }, (response) => {
      let body = '';
      const waiters: { text: string; done: () => void }[] = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        for (const waiter of waiters.filter((w) => body.includes(w.text))) waiter.done();
      });
      const closed = new Promise<void>((done) => {
        response.on('close', done);
        response.on('error', () => done());
      });
      resolve({
        status: response.statusCode ?? 0,
        get body() {
          return body;
        },
        closed,
        received: (text) =>
          new Promise<void>((done) => {
            if (body.includes(text)) done();
            else waiters.push({ text, done });
          }),
        destroy: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}

async function identify(base: string) {
  const r = await call(base, '/v1/identify', {
    environment: 'production',
    known_identities: { email: `x${Math.random()}@example.com` },
  });
  expect(r.status).toBe(200);
}

describe('event streams are capped', () => {
  it('[HC-1] a device beyond its stream cap keeps its new stream; its oldest stream is closed', async () => {
    const t = await serve({ streamsPerDevice: 2 });
    const device = await registerDevice(t.url, t.server.appInput.key, 'phone');
    const first = await openStream(t.url, device);
    const second = await openStream(t.url, device);
    const third = await openStream(t.url, device);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    await first.closed;
    await identify(t.url);
    await second.received('data: RESYNC');
    await third.received('data: RESYNC');
    second.destroy();
    third.destroy();
  });

  it('[HC-2] streams beyond the cap of an input key are refused with 429; other keys still stream', async () => {
    const t = await serve({ streamsPerInput: 2 });
    const key = t.server.appInput.key;
    const open = [];
    for (const id of ['a', 'b']) open.push(await openStream(t.url, await registerDevice(t.url, key, id)));
    const refused = await openStream(t.url, await registerDevice(t.url, key, 'c'));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ reason: 'RATE_LIMITED' }] });
    const other = await admin<{ key: string }>(t.url, 'POST', '/workspaces/default/inputs', {
      name: 'other',
      allowKeyOnly: true,
    });
    const elsewhere = await openStream(t.url, await registerDevice(t.url, other.body.key, 'd'));
    expect(elsewhere.status).toBe(200);
    for (const stream of [...open, elsewhere]) stream.destroy();
  });

  it('[HC-2] streams beyond the server-wide cap are refused with 503', async () => {
    const t = await serve({ maxStreams: 2 });
    const key = t.server.appInput.key;
    const open = [];
    for (const id of ['a', 'b']) open.push(await openStream(t.url, await registerDevice(t.url, key, id)));
    const refused = await openStream(t.url, await registerDevice(t.url, key, 'c'));
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ reason: 'UNAVAILABLE' }] });
    open[0]?.destroy();
    await open[0]?.closed;
    // A closed stream frees its place.
    const again = await openStream(t.url, await registerDevice(t.url, key, 'd'));
    expect(again.status).toBe(200);
    for (const stream of [...open, again]) stream.destroy();
  });
});

describe('revocation closes streams', () => {
  it('[HC-3] revoking a device closes its open streams; other devices keep theirs', async () => {
    const t = await serve();
    const key = t.server.appInput.key;
    const revoked = await openStream(t.url, await registerDevice(t.url, key, 'lost-phone'));
    const kept = await openStream(t.url, await registerDevice(t.url, key, 'laptop'));
    expect((await admin(t.url, 'DELETE', '/workspaces/default/devices/lost-phone')).status).toBe(204);
    await revoked.closed;
    await identify(t.url);
    await kept.received('data: RESYNC');
    expect(revoked.body).not.toContain('data: RESYNC');
    kept.destroy();
  });

  it('[HC-3] revoking an input closes the streams opened with its key', async () => {
    const t = await serve();
    const other = await admin<{ key: string }>(t.url, 'POST', '/workspaces/default/inputs', {
      name: 'kiosk',
      allowKeyOnly: true,
    });
    const revoked = await openStream(t.url, await registerDevice(t.url, other.body.key, 'kiosk-1'));
    const kept = await openStream(t.url, await registerDevice(t.url, t.server.appInput.key, 'laptop'));
    const gone = await admin(t.url, 'DELETE', `/workspaces/default/inputs/${other.body.key}`);
    expect(gone.status).toBe(204);
    await revoked.closed;
    await identify(t.url);
    await kept.received('data: RESYNC');
    kept.destroy();
  });
});

/** A raw connection; resolves `closed` when the server closes it. */
function rawSocket(base: string): Promise<{ socket: net.Socket; closed: Promise<string> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      const closed = new Promise<string>((done) => socket.on('close', () => done(received)));
      resolve({ socket, closed });
    });
    socket.on('error', reject);
  });
}

describe('slow clients are cut off', () => {
  const SHORT = { headersTimeoutMs: 1000, requestTimeoutMs: 1500, keepAliveTimeoutMs: 1000 };

  it('[HC-4] connections that never finish their headers are closed', async () => {
    const t = await serve(SHORT);
    const sockets = await Promise.all([1, 2, 3].map(() => rawSocket(t.url)));
    for (const { socket } of sockets) socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const drip = setInterval(() => sockets.forEach(({ socket }) => socket.write('a')), 200);
    try {
      for (const { closed } of sockets) await closed;
    } finally {
      clearInterval(drip);
    }
  });

  it('[HC-4] connections that send their body one byte at a time are closed', async () => {
    const t = await serve(SHORT);
    const sockets = await Promise.all([1, 2, 3].map(() => rawSocket(t.url)));
    for (const { socket } of sockets)
      socket.write(
        'POST /v1/identify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{',
      );
    const drip = setInterval(() => sockets.forEach(({ socket }) => socket.write(' ')), 200);
    try {
      for (const { closed } of sockets) await closed;
    } finally {
      clearInterval(drip);
    }
  });

  it('[HC-4] idle keep-alive connections are closed after a request', async () => {
    const t = await serve(SHORT);
    const { socket, closed } = await rawSocket(t.url);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await closed).toContain('HTTP/1.1 200');
  });

  it('[HC-4] an event stream outlives the request timeout and still gets notifications', async () => {
    const t = await serve(SHORT);
    const stream = await openStream(t.url, await registerDevice(t.url, t.server.appInput.key, 'phone'));
    // Slow connections opened with the stream are closed by the request timeout...
    const slow = await rawSocket(t.url);
    slow.socket.write('POST /v1/identify HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n{');
    await slow.closed;
    // ... while the stream, open longer than that, still receives.
    await identify(t.url);
    await stream.received('data: RESYNC');
    stream.destroy();
  });
});
