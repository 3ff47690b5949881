/** Inputs in words and the device connect link the console builds (SPEC AC-36, AC-38). */
import { describe, expect, it } from 'vitest';
import {
  deviceConnectLink,
  INPUT_KINDS,
  inputKindInWords,
} from '../../../renderer/src/features/admin/input-words.ts';

describe('input words', () => {
  it('[AC-38] the connect link is the one the server prints, from the page URL, behind any prefix', () => {
    expect(deviceConnectLink('https://ids.example.com/app/#/admin/inputs', 'us1-k')).toBe(
      'https://ids.example.com/app/#/connect?server=https%3A%2F%2Fids.example.com&key=us1-k',
    );
    expect(deviceConnectLink('https://corp.example.com/ids/app/index.html#/admin/inputs', 'a&b')).toBe(
      'https://corp.example.com/ids/app/#/connect?server=https%3A%2F%2Fcorp.example.com%2Fids&key=a%26b',
    );
  });

  it('[AC-36] each kind the form offers is worded back as that kind once listed', () => {
    expect(inputKindInWords(INPUT_KINDS.server)).toMatch(/^Server to server/);
    expect(inputKindInWords(INPUT_KINDS.key_only)).toMatch(/^Key only/);
    expect(inputKindInWords(INPUT_KINDS.sync_only)).toMatch(/^Device sync only: devices register/);
    expect(inputKindInWords({ allowKeyOnly: false, syncOnly: true })).toMatch(
      /^Device sync only, with the secret/,
    );
  });
});
