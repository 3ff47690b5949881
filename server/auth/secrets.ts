/**
 * Credentials at rest. Nothing in the database is enough to authenticate:
 *
 * - Admin tokens are random 256-bit values; the database keeps their SHA-256 (a slow hash adds
 *   nothing for values with 256 bits of entropy, and every request checks one).
 * - Input secrets are checked by SHA-256 for HTTP Basic. HMAC signatures (spec §4.2) can only be
 *   verified with the secret itself, so the secret is also kept sealed with AES-256-GCM under the
 *   server key, which lives outside the database (IDSYNC_SERVER_KEY, or `server.key` in the data
 *   folder, created on first start with mode 0600). A copy of the database alone reveals no secret.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { err, ok, type Result } from '../../shared/util/result.ts';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time comparison of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The server key and where it came from (`IDSYNC_SERVER_KEY` or the file), for messages. */
export interface LoadedServerKey {
  readonly key: ServerKey;
  readonly source: string;
}

export class ServerKey {
  private constructor(private readonly key: Buffer) {}

  /** A key from its base64url text; `source` names it in the error (e.g. `IDSYNC_SERVER_KEY`). */
  static fromText(text: string, source: string): Result<ServerKey, string> {
    const key = Buffer.from(text.trim(), 'base64url');
    return key.length < 32
      ? err(`${source} must hold at least 32 bytes, base64url-encoded (it holds ${key.length})`)
      : ok(new ServerKey(key));
  }

  /** IDSYNC_SERVER_KEY when set, else `server.key` in the data folder (created when missing). */
  static load(env: string | undefined, dataDir: string): Result<LoadedServerKey, string> {
    const source = env !== undefined && env !== '' ? 'IDSYNC_SERVER_KEY' : path.join(dataDir, 'server.key');
    let text: string;
    try {
      if (source === 'IDSYNC_SERVER_KEY') text = env as string;
      else {
        if (!existsSync(source)) writeFileSync(source, `${randomToken(32)}\n`, { mode: 0o600, flag: 'wx' });
        text = readFileSync(source, 'utf8');
      }
    } catch (error) {
      return err(`cannot read or create the server key ${source}: ${(error as Error).message}`);
    }
    const key = ServerKey.fromText(text, source);
    return key.ok ? ok({ key: key.value, source }) : key;
  }

  static random(): ServerKey {
    return new ServerKey(randomBytes(32));
  }

  /** Seals a secret for storage: base64url(iv ‖ tag ‖ ciphertext), bound to `context` (the API key). */
  seal(secret: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key.subarray(0, 32), iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** Opens a sealed secret; `null` when it was sealed under another key or tampered with. */
  open(sealed: string, context: string): string | null {
    try {
      const bytes = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key.subarray(0, 32), bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

export function newApiKey(): string {
  return `us1-${randomBytes(16).toString('hex')}`;
}
