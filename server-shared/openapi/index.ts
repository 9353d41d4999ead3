/**
 * OpenAPI 3.1 documents of both servers, built from the app's own route table and the zod schemas
 * its routes validate with (issue 21 ask 6). Each server passes a table of `RouteDoc`s keyed
 * `METHOD /api/path` (central/api/openapi.ts, gateway/http/openapi.ts, ./auth-routes.ts); the
 * permission of each operation is read from the route's own `requirePermission(...)` declaration
 * (server-shared/web-auth/permissions.ts), so the document cannot claim a permission the route does
 * not check. `undescribedApiRoutes` names every mounted /api route the table misses (the test).
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { apiErrorSchema } from '../../protocols/api/error-schemas.ts';
import { type Declared, declaredBy, requireLogin } from '../web-auth/permissions.ts';

export interface ResponseDoc {
  description: string;
  /** The body's schema (an answer of protocols/api/*-schemas.ts); none for an empty answer. */
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
}

export interface RouteDoc {
  summary: string;
  /** The query schema the route parses with (input side: defaults and coercion as accepted). */
  query?: z.ZodObject;
  /** The JSON body schema the route parses with. */
  body?: z.ZodType;
  /** Body content types other than JSON (ingest): described as text. */
  bodyContentTypes?: string[];
  responses: Record<number, ResponseDoc>;
}

/** Keyed `METHOD /api/path` with Hono's path syntax (`/api/alerts/:id`). */
export type RouteDocs = Record<string, RouteDoc>;

/** One answer: `status` (200 unless given) with `schema` as its JSON body, or empty without one. */
export function answer(description: string, schema?: z.ZodType, status = 200): RouteDoc['responses'] {
  return { [status]: schema ? { description, schema } : { description } };
}

/** A route's description: its summary, its answers and what it reads (`body`, `query`). */
export function route(
  summary: string,
  responses: RouteDoc['responses'],
  input: Pick<RouteDoc, 'body' | 'query'> = {},
): RouteDoc {
  return { summary, ...input, responses };
}

export interface OpenApiOptions {
  title: string;
  version: string;
  description: string;
  /** The session cookie's name (web-auth's `cookieName`). */
  cookieName: string;
  docs: RouteDocs;
}

type Json = Record<string, unknown>;

/** Every mounted /api route, `METHOD path`, with what it declares (the enumeration `undeclaredApiRoutes` uses). */
export function apiRoutes(
  app: Hono,
  prefix = '/api',
): Array<{ key: string; method: string; path: string; declared: Declared | undefined }> {
  const routes = app.routes;
  const covers = (pattern: string, path: string) =>
    pattern === path || (pattern.endsWith('/*') && path.startsWith(pattern.slice(0, -1)));
  const out = new Map<
    string,
    { key: string; method: string; path: string; declared: Declared | undefined }
  >();
  for (const r of routes) {
    if (r.method === 'ALL' || !(r.path === prefix || r.path.startsWith(`${prefix}/`))) continue;
    const key = `${r.method} ${r.path}`;
    if (out.has(key)) continue;
    const found = routes
      .filter((d) => (d.method === r.method || d.method === 'ALL') && covers(d.path, r.path))
      .map((d) => declaredBy(d.handler))
      .filter((d): d is Declared => d !== undefined);
    // The strictest declaration wins, as at run time (permissions.ts declaredForRequest).
    const declared =
      found.find((d) => d !== 'public' && d !== 'login') ?? found.find((d) => d === 'login') ?? found[0];
    out.set(key, { key, method: r.method, path: r.path, declared });
  }
  return [...out.values()];
}

/** `METHOD path` of every mounted /api route the table does not describe. */
export function undescribedApiRoutes(app: Hono, docs: RouteDocs): string[] {
  return apiRoutes(app)
    .map((r) => r.key)
    .filter((key) => !docs[key]);
}

/** Hono's `/alerts/:id{[0-9]+}` as OpenAPI's `/alerts/{id}`, with the parameter names. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const out = path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: out, params };
}

/** Converts a zod schema to JSON Schema 2020-12, moving named schemas into components. */
function converter(components: Record<string, Json>) {
  return (schema: z.ZodType, io: 'input' | 'output'): Json => {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
    const defs = (json.$defs ?? {}) as Record<string, Json>;
    delete json.$defs;
    delete json.$schema;
    const rename = new Map<string, string>();
    for (const [id, def] of Object.entries(defs)) {
      let name = id;
      const same = (n: string) => JSON.stringify(components[n]) === JSON.stringify(def);
      if (components[name] && !same(name)) name = `${id}_${io}`;
      rename.set(id, name);
    }
    const fix = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(fix);
      if (!node || typeof node !== 'object') return node;
      const o: Json = {};
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
          const id = v.slice('#/$defs/'.length);
          o[k] = `#/components/schemas/${rename.get(id) ?? id}`;
        } else o[k] = fix(v);
      }
      return o;
    };
    for (const [id, def] of Object.entries(defs)) components[rename.get(id) ?? id] = fix(def) as Json;
    const root = fix(json) as Json;
    // A schema with an id of its own is the whole answer: refer to it.
    const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id;
    if (id && !root.$ref) {
      const name =
        components[id] && JSON.stringify(components[id]) !== JSON.stringify(root) ? `${id}_${io}` : id;
      components[name] = root;
      return { $ref: `#/components/schemas/${name}` };
    }
    return root;
  };
}

const SECURITY_SCHEMES = (cookieName: string) => ({
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: cookieName,
    description:
      'The session cookie of POST /api/auth/login (HttpOnly, SameSite=Strict). A change (any method but GET/HEAD) sent with it also needs `csrf`.',
  },
  csrf: {
    type: 'apiKey',
    in: 'header',
    name: 'x-csrf-token',
    description:
      "The session's `csrf_token` (from login or GET /api/auth/me), on every cookie-authenticated change.",
  },
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API token (`Authorization: Bearer …`). The requirement lists the permission the route declares; the token needs it among its scopes (and its owner in their role).',
  },
});

/** Builds the OpenAPI 3.1 document of `app` from its route table and `options.docs`. */
export function buildOpenApi(app: Hono, options: OpenApiOptions): Json {
  const components: Record<string, Json> = {};
  const convert = converter(components);
  const error = convert(apiErrorSchema, 'output');
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: error } },
  });
  const paths: Record<string, Json> = {};
  for (const route of apiRoutes(app)) {
    const doc = options.docs[route.key];
    if (!doc) continue;
    const { path, params } = openApiPath(route.path);
    const parameters: Json[] = params.map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (doc.query) {
      const q = convert(doc.query, 'input');
      const props = (q.properties ?? {}) as Record<string, Json>;
      const required = new Set((q.required ?? []) as string[]);
      for (const [name, schema] of Object.entries(props)) {
        parameters.push({ name, in: 'query', required: required.has(name), schema });
      }
    }
    const declared = route.declared;
    const write = route.method !== 'GET' && route.method !== 'HEAD';
    const security =
      declared === 'public'
        ? []
        : [
            write ? { session: [], csrf: [] } : { session: [] },
            { bearer: declared && declared !== 'login' ? [declared] : [] },
          ];
    const responses: Json = {};
    for (const [status, r] of Object.entries(doc.responses)) {
      responses[status] = r.schema
        ? {
            description: r.description,
            content: { [r.contentType ?? 'application/json']: { schema: convert(r.schema, 'output') } },
          }
        : r.contentType
          ? { description: r.description, content: { [r.contentType]: {} } }
          : { description: r.description };
    }
    if (declared !== 'public') {
      responses['401'] ??= errorResponse('No valid session or token (`unauthenticated`, `invalid_token`).');
      responses['403'] ??= errorResponse('The role or token scope lacks the permission, or a CSRF refusal.');
    }
    responses.default = errorResponse('Any other error, in the one error shape of both servers.');
    const operation: Json = {
      operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch?: string) => (ch ? ch.toUpperCase() : ''))}`,
      summary: doc.summary,
      'x-permission': declared ?? 'undeclared',
      security,
      ...(parameters.length > 0 ? { parameters } : {}),
      responses,
    };
    if (doc.body || doc.bodyContentTypes) {
      const content: Json = {};
      if (doc.body) content['application/json'] = { schema: convert(doc.body, 'input') };
      for (const type of doc.bodyContentTypes ?? []) content[type] = { schema: { type: 'string' } };
      operation.requestBody = { required: true, content };
    }
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: { title: options.title, version: options.version, description: options.description },
    paths,
    components: { schemas: components, securitySchemes: SECURITY_SCHEMES(options.cookieName) },
  };
}

/**
 * Serves the document at `GET /api/openapi.json` to any authenticated caller (docs/security.md says
 * why not anonymously). Built at the first request, when every route is mounted, then kept.
 */
export function mountOpenApi(app: Hono, options: OpenApiOptions): void {
  let document: Json | undefined;
  app.get('/api/openapi.json', requireLogin(), (c) => {
    document ??= buildOpenApi(app, options);
    c.header('cache-control', 'no-store');
    return c.json(document);
  });
}
