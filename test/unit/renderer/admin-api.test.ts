/**
 * The admin console's client: every answer parsed with the shared wire schemas, every expected
 * failure a value the screens word (SPEC AC-1, AC-6), and only ever the server the app came from.
 */
import { describe, expect, it } from 'vitest';
import { AdminApi, adminApiBase, failureInWords } from '../../../renderer/src/features/admin/admin-api.ts';

const BASE = 'https://ids.example.com/admin/v1/';

function answering(status: number, body: unknown): typeof fetch {
  return () => Promise.resolve(new Response(body === null ? null : JSON.stringify(body), { status }));
}

describe('admin API client', () => {
  it('[AC-6] finds the admin API beside the app the server served, behind any prefix; none outside HTTP', () => {
    expect(adminApiBase('https://ids.example.com/app/#/admin')).toBe('https://ids.example.com/admin/v1/');
    expect(adminApiBase('https://corp.example.com/ids/app/index.html#/admin')).toBe(
      'https://corp.example.com/ids/admin/v1/',
    );
    expect(adminApiBase('app://identity-sync/index.html#/admin')).toBeNull();
  });

  it('[AC-1] a 401 is "unauthorized", whatever its body says', async () => {
    const api = new AdminApi(BASE, 'wrong', answering(401, { nonsense: true }));
    expect(await api.workspaces()).toEqual({ ok: false, error: { kind: 'unauthorized' } });
  });

  it('[AC-6] no answer is "unreachable"; a 404 carries the server message; an unreadable answer says so', async () => {
    const down = new AdminApi(BASE, 't', () => Promise.reject(new TypeError('Failed to fetch')));
    expect(await down.devices('default')).toEqual({ ok: false, error: { kind: 'unreachable' } });
    const missing = new AdminApi(
      BASE,
      't',
      answering(404, {
        errors: [{ code: 'NOT_FOUND_ERROR', message: 'no profile 5 in default', reason: 'NOT_FOUND' }],
        request_id: null,
        status_code: 404,
      }),
    );
    const found = await missing.profile('default', '5');
    expect(found).toEqual({ ok: false, error: { kind: 'not_found', message: 'no profile 5 in default' } });
    const other = new AdminApi(BASE, 't', answering(200, { workspaces: [{ id: 'default' }] }));
    const unreadable = await other.workspaces();
    expect(unreadable).toEqual({ ok: false, error: { kind: 'unreadable', status: 200 } });
    if (!unreadable.ok) expect(failureInWords(unreadable.error)).toMatch(/could not be read/);
  });

  it('[AC-6] sends the token as a bearer header and never cookies, to the same origin only', async () => {
    const seen: { url: string; init: RequestInit | undefined }[] = [];
    const api = new AdminApi(BASE, 'tok', (input, init) => {
      seen.push({ url: input instanceof URL ? input.href : 'not a URL', init });
      return Promise.resolve(new Response(null, { status: 204 }));
    });
    expect(await api.revokeDevice('default', 'tab/7')).toEqual({ ok: true, value: null });
    expect(seen).toEqual([
      {
        url: 'https://ids.example.com/admin/v1/workspaces/default/devices/tab%2F7',
        init: expect.objectContaining({
          method: 'DELETE',
          headers: { authorization: 'Bearer tok' },
          credentials: 'omit',
        }),
      },
    ]);
  });
});
