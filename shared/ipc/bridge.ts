/**
 * The IPC contract between the Electron main process and the renderer (through the preload).
 *
 * Every channel starts with `app:`; the preload refuses any other name (VS Code's `validateIPC`).
 * Arguments arrive in main as `unknown` and are parsed with the `args` schema of their channel;
 * every answer is a `Result`, so a refusal is a value the caller can read, never a thrown string.
 * Platform-free: zod only.
 */
import { z } from 'zod';
import type { Result } from '../util/result.ts';

/** Longest URL handed to the operating system's browser. */
export const MAX_EXTERNAL_URL_LENGTH = 2048;
/** Longest secret the desktop seals (API keys, device secrets: far shorter in practice). */
export const MAX_PLAIN_SECRET_LENGTH = 4096;
/** Longest sealed secret accepted back: base64 of the ciphertext of the longest plain secret. */
export const MAX_SEALED_SECRET_LENGTH = 16384;

/**
 * An absolute http(s) URL, normalised (`HTTPS://X` → `https://x/`). URLs with user info are
 * refused: `https://bank.example@evil.example` reads as one host and goes to another.
 */
export const ExternalUrlSchema = z
  .string()
  .max(MAX_EXTERNAL_URL_LENGTH)
  .pipe(z.url({ protocol: /^https?$/, normalize: true }))
  .refine((href) => !/^https?:\/\/[^/?#]*@/.test(href), { message: 'URL must not carry user info' });

export const PlainSecretSchema = z.string().min(1).max(MAX_PLAIN_SECRET_LENGTH);
export const SealedSecretSchema = z.string().min(1).max(MAX_SEALED_SECRET_LENGTH).pipe(z.base64());

/**
 * Why a call was refused. `invalid-argument`: the arguments did not match the channel's schema
 * (nothing happened). `untrusted-sender`: the call did not come from the app's own page.
 * `unavailable`: the OS offers no secret storage (keep the credential as the browser does).
 * `failed`: the operating system refused the operation.
 */
export const BridgeErrorSchema = z.enum(['invalid-argument', 'untrusted-sender', 'unavailable', 'failed']);
export type BridgeError = z.infer<typeof BridgeErrorSchema>;

export type BridgeResult<T> = Result<T, BridgeError>;

function resultSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }).strict(),
    z.object({ ok: z.literal(false), error: BridgeErrorSchema }).strict(),
  ]);
}

/** Channel names, the only ones the preload will send on. */
export const APP_CHANNELS = {
  version: 'app:version',
  openExternal: 'app:open-external',
  sealSecret: 'app:seal-secret',
  unsealSecret: 'app:unseal-secret',
} as const;

export type AppChannel = (typeof APP_CHANNELS)[keyof typeof APP_CHANNELS];

/** Argument tuples (extra arguments are refused) and answers of every channel. */
export const IPC_CONTRACT = {
  [APP_CHANNELS.version]: { args: z.tuple([]), result: resultSchema(z.string().min(1)) },
  [APP_CHANNELS.openExternal]: { args: z.tuple([ExternalUrlSchema]), result: resultSchema(z.string()) },
  [APP_CHANNELS.sealSecret]: { args: z.tuple([PlainSecretSchema]), result: resultSchema(SealedSecretSchema) },
  [APP_CHANNELS.unsealSecret]: {
    args: z.tuple([SealedSecretSchema]),
    result: resultSchema(PlainSecretSchema),
  },
} as const satisfies Record<AppChannel, { args: z.ZodTuple; result: z.ZodType }>;

export type IpcArgs<C extends AppChannel> = z.infer<(typeof IPC_CONTRACT)[C]['args']>;
export type IpcResult<C extends AppChannel> = z.infer<(typeof IPC_CONTRACT)[C]['result']>;

const CHANNEL_NAMES: ReadonlySet<string> = new Set(Object.values(APP_CHANNELS));

/** The allowlist check every send from the preload passes through. */
export function isAppChannel(channel: unknown): channel is AppChannel {
  return typeof channel === 'string' && CHANNEL_NAMES.has(channel);
}

/** The name of the single object the preload puts on `window`. */
export const BRIDGE_GLOBAL = 'identitySync';

/**
 * Whether the OS can seal secrets is known to main before the window opens; main hands it to the
 * preload as a command-line argument (`webPreferences.additionalArguments`, as VS Code passes its
 * window configuration), so the renderer learns it synchronously, without a round trip.
 */
const SEALING_ARGUMENT = '--identity-sync-sealing=';

export function sealingArgument(isAvailable: boolean): string {
  return `${SEALING_ARGUMENT}${isAvailable ? 'available' : 'unavailable'}`;
}

/** False unless the argument says `available` (a missing argument means no sealing). */
export function isSealingAvailable(argv: readonly string[]): boolean {
  return argv.includes(sealingArgument(true));
}

/**
 * What the renderer sees as `window.identitySync` in the desktop app. Only data crosses: no
 * Electron objects, no callbacks.
 */
export interface AppBridge {
  /** False when the OS has no secret store: then `sealSecret` answers `unavailable`. */
  readonly sealingAvailable: boolean;
  /** The desktop app's version (package.json `version`). */
  version(): Promise<string>;
  /** Opens an http(s) URL in the user's browser; the answer carries the URL that was opened. */
  openExternal(url: string): Promise<BridgeResult<string>>;
  /** Encrypts a secret with the OS keychain (`safeStorage`); base64 ciphertext. */
  sealSecret(plain: string): Promise<BridgeResult<string>>;
  /** Decrypts what `sealSecret` answered. */
  unsealSecret(sealed: string): Promise<BridgeResult<string>>;
}
