/**
 * Request bodies: JSON (optionally gzip-encoded, as Android sends it) parsed from the exact bytes
 * received, which HMAC signatures cover. The bytes are kept on the request. Prototype-poisoning
 * keys (`__proto__`, `constructor.prototype`) are refused before any code sees the object, and so
 * are bytes that are not UTF-8 (HV-1): decoding them would silently turn them into U+FFFD, and the
 * value stored would not be the one the caller sent.
 */
import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
    /** The body as received, decoded as UTF-8: the text the JSON body was parsed from. */
    bodyText?: string;
  }
}

export class BodyError extends Error {
  constructor(readonly apiError: ApiError) {
    super(apiError.message);
  }
}

export function registerBodyParsing(app: FastifyInstance, bodyLimit: number): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined || encoding === 'identity') return payload;
    if (encoding !== 'gzip') {
      throw new BodyError(
        apiError(
          'UNSUPPORTED_MEDIA_TYPE',
          `content-encoding ${encoding} is not supported; send gzip or none`,
        ),
      );
    }
    // Fastify checks Content-Length against `receivedEncodedLength` (the compressed bytes) and
    // the body limit against the decompressed bytes, which stops zip bombs.
    const gunzip = Object.assign(createGunzip(), { receivedEncodedLength: 0 });
    payload.on('data', (chunk: Buffer) => {
      gunzip.receivedEncodedLength += chunk.length;
    });
    return payload.pipe(gunzip);
  });
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const parse = (request: FastifyRequest, body: Buffer): unknown => {
    try {
      const text = utf8.decode(body);
      request.bodyText = text;
      return secureJson.parse(text, undefined, {
        protoAction: 'error',
        constructorAction: 'error',
      });
    } catch (error) {
      throw new BodyError(
        apiError('VALIDATION_ERROR', `the body is not valid JSON: ${(error as Error).message}`),
      );
    }
  };
  app.removeAllContentTypeParsers();
  for (const type of ['application/json', 'text/plain']) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
      const bytes = body as Buffer;
      request.rawBody = bytes;
      if (bytes.length === 0) return done(null, undefined);
      try {
        done(null, parse(request, bytes));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
  }
}
