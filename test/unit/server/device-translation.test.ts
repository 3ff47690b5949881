/**
 * Device MPID translation (SPEC SS-4), shared by the server's device replay and the what-if replay.
 */
import { describe, expect, it } from 'vitest';
import {
  translateDeviceRequestNow,
  type DeviceRequestInput,
  type MpidMeaning,
} from '../../../server/device-translation.ts';

/** A translator that records what it was asked and answers "9" + the MPID. */
function recording() {
  const asked: [string, MpidMeaning][] = [];
  const translate = (mpid: string, meaning: MpidMeaning) => {
    asked.push([mpid, meaning]);
    return `9${mpid}`;
  };
  return { asked, translate };
}

const identity = (body: Record<string, unknown>): DeviceRequestInput => ({
  kind: 'login',
  body: { environment: 'production', known_identities: { customerid: 'c1' }, ...body },
  modifyMpid: null,
});

describe('translateDeviceRequest', () => {
  it("[SS-4] an identity request's previous MPID is translated as the current user; nothing is named", () => {
    const { asked, translate } = recording();
    const call = translateDeviceRequestNow(identity({ previous_mpid: '123' }), translate);
    expect(asked).toEqual([['123', 'current']]);
    expect(call.request.body).toMatchObject({
      previous_mpid: '9123',
      known_identities: { customerid: 'c1' },
    });
    expect(call.named).toEqual([]);
  });

  it('[SS-4] "no current user" spellings of previous_mpid are not translated', () => {
    for (const previous of [undefined, null, '0', 0, '']) {
      const { asked, translate } = recording();
      const sync = identity(previous === undefined ? {} : { previous_mpid: previous });
      expect(translateDeviceRequestNow(sync, translate).request.body).toEqual(sync.body);
      expect(asked).toEqual([]);
    }
  });

  it('[SS-4] a modify target is translated as the current user and named', () => {
    const { asked, translate } = recording();
    const body = { environment: 'production', identity_changes: [] };
    const call = translateDeviceRequestNow({ kind: 'modify', body, modifyMpid: '55' }, translate);
    expect(asked).toEqual([['55', 'current']]);
    expect(call.request).toEqual({ body, target: '955' });
    expect(call.named).toEqual(['955']);
  });

  it('[SS-4] alias source and destination are translated as profiles, named, and the rest of data kept', () => {
    const { asked, translate } = recording();
    const body = {
      environment: 'production',
      data: { source_mpid: '11', destination_mpid: '22', start_unixtime_ms: 5, scope: 'device' },
    };
    const call = translateDeviceRequestNow({ kind: 'alias', body, modifyMpid: null }, translate);
    expect(asked).toEqual([
      ['11', 'profile'],
      ['22', 'profile'],
    ]);
    expect(call.request.body).toEqual({
      environment: 'production',
      data: { source_mpid: '911', destination_mpid: '922', start_unixtime_ms: 5, scope: 'device' },
    });
    expect(call.named).toEqual(['911', '922']);
  });

  it('[SS-4] a body that does not parse is read no further: untranslated, nothing named', () => {
    const cases: DeviceRequestInput[] = [
      { kind: 'alias', body: { environment: 'production', data: { source_mpid: '11' } }, modifyMpid: null },
      {
        kind: 'alias',
        body: { environment: 'nowhere', data: { source_mpid: '11', destination_mpid: '22' } },
        modifyMpid: null,
      },
      {
        kind: 'identify',
        body: { environment: 'production', previous_mpid: '123', known_identities: 7 },
        modifyMpid: null,
      },
    ];
    for (const sync of cases) {
      const { asked, translate } = recording();
      const call = translateDeviceRequestNow(sync, translate);
      expect(call.request.body).toBe(sync.body);
      expect(call.named).toEqual([]);
      expect(asked).toEqual([]);
    }
  });
});
