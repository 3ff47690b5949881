// @vitest-environment happy-dom
/**
 * A config save that someone else's save overtook (SPEC AC-40, AA-10): the client sends the version
 * the edit started from and tells a stale refusal from other refusals; the impact preview then says
 * the config was changed by someone else since it was opened and offers to reload instead of saving.
 */
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScopeConfigSchema } from '../../../shared/identity/scope-config.ts';
import type { WhatIfResponse } from '../../../shared/protocol/what-if.ts';
import { AdminApi } from '../../../renderer/src/features/admin/admin-api.ts';
import { ImpactPreview } from '../../../renderer/src/features/admin/settings/ImpactPreview.tsx';

const BASE = 'https://ids.example.com/admin/v1/';
const CONFIG = ScopeConfigSchema.parse({
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email'],
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
});
const conflict = (path: string, message: string) => ({
  errors: [{ code: 'BAD_REQUEST', message, reason: 'CONFLICT', path }],
  request_id: null,
  status_code: 409,
});
const NOTHING_CHANGES: WhatIfResponse = {
  workspace: 'default',
  summary: {
    logged: 3,
    window: { from: null, to: null },
    replayed: 3,
    compared: 3,
    outcomesChanged: 0,
    skipped: {},
    truncated: false,
    differencesTruncated: false,
  },
  differences: [],
};

afterEach(cleanup);

describe('a save overtaken by another admin', () => {
  it('[AA-9][AC-40] the save names the version it edited; a 409 on that version is "stale", other 409s are refusals', async () => {
    const urls: string[] = [];
    const stale = new AdminApi(BASE, 't', (input) => {
      urls.push(input instanceof Request ? input.url : input.toString());
      const body = conflict('expected_version', 'it is now version 4');
      return Promise.resolve(new Response(JSON.stringify(body), { status: 409 }));
    });
    expect(await stale.saveConfig('default', CONFIG, 3)).toEqual({
      ok: false,
      error: { kind: 'stale', message: 'it is now version 4' },
    });
    expect(new URL(urls[0] ?? '').searchParams.get('expected_version')).toBe('3');
    const duplicates = new AdminApi(BASE, 't', () =>
      Promise.resolve(
        new Response(JSON.stringify(conflict('uniqueIdentities', 'values held by several profiles')), {
          status: 409,
        }),
      ),
    );
    expect(await duplicates.saveConfig('default', CONFIG, 3)).toMatchObject({
      ok: false,
      error: { kind: 'refused' },
    });
  });

  it('[AC-40] the preview says someone else changed the config and offers a reload instead of the save', async () => {
    const user = userEvent.setup({ delay: null });
    const onReload = vi.fn();
    const onConfirm = vi.fn();
    const message = 'The config was changed by someone else since you opened it (you edited version 3).';
    render(
      <MantineProvider>
        <ImpactPreview
          state={{
            status: 'ready',
            result: NOTHING_CHANGES,
            saving: false,
            saveError: { stale: true, message },
          }}
          changes={['Strategy: profile conversion → profile isolation']}
          nextVersion={4}
          onBack={() => undefined}
          onConfirm={onConfirm}
          onReload={onReload}
        />
      </MantineProvider>,
    );
    expect(screen.getByRole('alert').textContent).toContain('changed by someone else since you opened it');
    expect(screen.queryByRole('button', { name: /^Save as version/ })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Reload the current config' }));
    expect(onReload).toHaveBeenCalledTimes(1);
    expect(onConfirm).not.toHaveBeenCalled();
  });

  it('[AC-40] any other refusal keeps the save button beside the worded error', () => {
    render(
      <MantineProvider>
        <ImpactPreview
          state={{
            status: 'ready',
            result: NOTHING_CHANGES,
            saving: false,
            saveError: { stale: false, message: 'The server refused: values held by several profiles.' },
          }}
          changes={[]}
          nextVersion={4}
          onBack={() => undefined}
          onConfirm={() => undefined}
          onReload={() => undefined}
        />
      </MantineProvider>,
    );
    expect(screen.getByRole('button', { name: 'Save as version 4' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Reload the current config' })).toBeNull();
  });
});
