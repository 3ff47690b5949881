/**
 * The OpenAPI 3.1 document, derived from the declarations of the routes Fastify registered
 * (route-table.ts, SPEC OA-1) and the zod schemas those routes parse with, so the documentation
 * cannot drift from what the server serves and accepts. Served at /openapi.json and /docs.
 */
import { z } from 'zod';
import { ErrorBodySchema } from '../../shared/protocol/errors.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol/version.ts';
import type { Answer, DeclaredRoute, RouteAuth, RouteDeclaration } from './route-table.ts';

type Json = Record<string, unknown>;

function schema(zodSchema: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const generated = z.toJSONSchema(zodSchema, { io, unrepresentable: 'any' }) as Json;
  delete generated['$schema'];
  return generated;
}

const content = (type: string, body: Json) => ({ content: { [type]: { schema: body } } });

/** Every error answers the catalogue error body, described once. */
const ERROR_BODY_REF = '#/components/schemas/ErrorBody';

const SECURITY: Record<RouteAuth, readonly Json[]> = {
  public: [],
  input: [{ basic: [] }, { digest: [], date: [], key: [] }, { key: [] }],
  'input-key-in-path': [],
  device: [{ key: [], device: [] }],
  admin: [{ admin: [] }],
};

/** Failures every route of an authentication kind can answer, unless the route says more. */
const AUTH_ERRORS: Record<RouteAuth, Readonly<Record<number, string>>> = {
  public: {},
  input: {
    401: 'Missing, unknown, revoked or wrong credentials; bad or stale signature',
    429: 'Too many requests for this key or address; see Retry-After',
  },
  'input-key-in-path': {
    401: 'Unknown or revoked API key, or one that needs a secret',
    429: 'Too many requests for this key or address; see Retry-After',
  },
  device: {
    401: 'Missing, unknown, revoked or wrong input key or device credential',
    429: 'Too many requests for this device or address; see Retry-After',
  },
  admin: { 401: 'No or an unknown admin token' },
};

const SECURITY_SCHEMES = {
  basic: { type: 'http', scheme: 'basic', description: 'API key and secret' },
  key: {
    type: 'apiKey',
    in: 'header',
    name: 'x-mp-key',
    description: 'API key (alone only for inputs that allow it)',
  },
  digest: {
    type: 'apiKey',
    in: 'header',
    name: 'x-mp-signature',
    description: 'hex HMAC-SHA256(secret, METHOD\\nDate\\npath+query+body)',
  },
  date: { type: 'apiKey', in: 'header', name: 'date', description: 'Signed request time, within 5 minutes' },
  device: {
    type: 'apiKey',
    in: 'header',
    name: 'authorization',
    description: 'Device credential: `Device <device id>:<device secret>`, sent with the input key',
  },
  admin: { type: 'http', scheme: 'bearer', description: 'Admin token' },
};

/** Fastify's `/a/:b` as OpenAPI's `/a/{b}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** One parameter per property of an object schema; a property's description becomes the parameter's. */
function parametersOf(zodSchema: z.ZodObject | undefined, where: 'path' | 'query'): Json[] {
  if (zodSchema === undefined) return [];
  const generated = schema(zodSchema, 'input');
  const properties = (generated['properties'] ?? {}) as Record<string, Json>;
  const required = new Set((generated['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      schema: rest,
      ...(typeof description === 'string' ? { description } : {}),
    };
  });
}

function answer(declared: Answer | string): Json {
  if (typeof declared === 'string')
    return { description: declared, ...content('application/json', { $ref: ERROR_BODY_REF }) };
  if (declared.schema === undefined) return { description: declared.description };
  return {
    description: declared.description,
    ...content(declared.contentType ?? 'application/json', schema(declared.schema)),
  };
}

function operation(declaration: RouteDeclaration): Json {
  const { auth, body, headers = [] } = declaration;
  const responses: Record<number, Answer | string> = {
    ...AUTH_ERRORS[auth],
    ...(body === undefined ? {} : { 413: 'Body larger than --body-limit' }),
    ...declaration.responses,
  };
  const parameters = [
    ...parametersOf(declaration.params, 'path'),
    ...parametersOf(declaration.query, 'query'),
    ...headers.map((header) => ({
      name: header.name,
      in: 'header',
      required: header.required,
      schema: schema(header.schema, 'input'),
      description: header.description,
    })),
  ];
  return {
    operationId: declaration.operationId,
    tags: declaration.tags,
    summary: declaration.summary,
    ...(declaration.description === undefined ? {} : { description: declaration.description }),
    security: SECURITY[auth],
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(body === undefined
      ? {}
      : { requestBody: { required: true, ...content('application/json', schema(body, 'input')) } }),
    responses: Object.fromEntries(
      Object.entries(responses)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([status, declared]) => [status, answer(declared)]),
    ),
  };
}

/** The document for the declared routes, paths in registration order. */
export function openApiDocument(routes: readonly DeclaredRoute[]): Json {
  const paths: Record<string, Json> = {};
  for (const { url, declaration } of routes)
    (paths[openApiPath(url)] ??= {})[declaration.method.toLowerCase()] = operation(declaration);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Identity Sync',
      version: `protocol ${PROTOCOL_VERSION}`,
      description:
        "IDSync-compatible identity API (wire-compatible with mParticle identity v1), the device sync API and the admin API. The web app's static files (/, /app, /app/*) and this documentation UI (/docs) are served but not described here.",
    },
    components: { schemas: { ErrorBody: schema(ErrorBodySchema) }, securitySchemes: SECURITY_SCHEMES },
    paths,
  };
}
