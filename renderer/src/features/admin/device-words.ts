/** What a catalogue error code means for a device's refused request, in one sentence (AC-35). */
const CODE_WORDS: Readonly<Record<string, string>> = {
  FORBIDDEN: 'Refused: the device asked for something it may not do, so the server did not run it.',
  VALIDATION_ERROR: 'Refused: the request was not the documented shape.',
  UNKNOWN_IDENTITY_TYPE: 'Refused: it named an identity type the workspace does not know.',
  INVALID_IDENTITY_VALUE: 'Refused: an identity value was not usable.',
  NO_USABLE_IDENTITIES: 'Refused: every identity in it was empty or blocked.',
  IMMUTABLE_IDENTITY: 'Refused: it would have changed an identity that may not change.',
  IDENTITY_NOT_MODIFIABLE: 'Refused: it tried to change an identity type that cannot be changed.',
  BLOCKED_IDENTITY_VALUE: 'Refused: it tried to store a blocked value.',
  LOOKUP_ERROR: 'Failed: it named a profile that does not exist (any more).',
  ALIAS_ERROR: 'Refused: the alias was not valid.',
  ALIAS_NOT_AVAILABLE: 'Refused: aliasing is off for this workspace or strategy.',
  STRATEGY_UNSUPPORTED: "Refused: the workspace's strategy does not offer this request.",
  REQUEST_ID_CONFLICT: 'Refused: its request ID was already used for another request.',
};

export function failedCodeInWords(code: string): string {
  return CODE_WORDS[code] ?? 'The server answered it with an error and changed nothing.';
}
