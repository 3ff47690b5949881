/**
 * One declaration per HTTP route that both registers and documents it (SPEC OA-1): `route()` hands
 * the handler to Fastify with the declaration attached as the route's config, and a `RouteTable`
 * collects every route Fastify registers through its `onRoute` hook (scope prefixes included). The
 * OpenAPI document (openapi.ts) is built from that table, so a route cannot be served undocumented
 * or documented without being served.
 *
 * The declaration's schemas are the ones the handler parses with (the handler still parses
 * `unknown` itself, in its own order, answering catalogue errors); they are not Fastify schemas, so
 * Fastify validates and serialises nothing on its own.
 */
import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify';
import type { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Who may call the route, which decides its security requirement and the failures every such
 * route can answer (401, 429): `public` (anyone), `input` (an input's key, Basic or HMAC),
 * `input-key-in-path` (the web SDK's alias URL), `device` (input key plus device credential) or
 * `admin` (an admin token).
 */
export type RouteAuth = 'public' | 'input' | 'input-key-in-path' | 'device' | 'admin';

/** A request header the route reads besides authentication. */
export interface HeaderParameter {
  readonly name: string;
  readonly required: boolean;
  readonly schema: z.ZodType;
  readonly description: string;
}

/** A success answer: its description, and its body's schema (JSON unless `contentType` says). */
export interface Answer {
  readonly description: string;
  readonly schema?: z.ZodType;
  readonly contentType?: string;
}

export interface RouteDeclaration {
  readonly method: HttpMethod;
  /** Fastify syntax (`/a/:b`), relative to the scope the route is registered in. */
  readonly url: string;
  /** Unique across the API (OA-2); what generated clients name the call. */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly auth: RouteAuth;
  /** Every `:param` of the url, by name. */
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly headers?: readonly HeaderParameter[];
  readonly body?: z.ZodType;
  /** By status: a success answer, or (for errors) what the catalogue error body means there. */
  readonly responses: Readonly<Record<number, Answer | string>>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's declaration, for the OpenAPI document (OA-1). */
    readonly openapi?: RouteDeclaration;
  }
}

/** Registers `handler` for the declared method and url, with the declaration attached. */
export function route<RG extends RouteGenericInterface = RouteGenericInterface>(
  app: FastifyInstance,
  declaration: RouteDeclaration,
  handler: RouteHandlerMethod<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, RG>,
): void {
  app.route<RG>({
    method: declaration.method,
    url: declaration.url,
    config: { openapi: declaration },
    handler,
  });
}

/** A route as Fastify registered it: full url (prefix included), method, declaration if any. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly declaration: RouteDeclaration | undefined;
}

/** A declared route with its full url. */
export interface DeclaredRoute {
  readonly url: string;
  readonly declaration: RouteDeclaration;
}

export class RouteTable {
  private readonly routes: RegisteredRoute[] = [];

  /** Watches `app`: create the table before any route is registered. */
  constructor(app: FastifyInstance) {
    app.addHook('onRoute', (options) => {
      for (const method of [options.method].flat())
        this.routes.push({ method, url: options.url, declaration: options.config?.openapi });
    });
  }

  /** The declared routes, without the HEAD twin Fastify adds to each GET (same config). */
  declared(): DeclaredRoute[] {
    return this.routes.flatMap(({ method, url, declaration }) =>
      declaration !== undefined && declaration.method === method ? [{ url, declaration }] : [],
    );
  }
}
