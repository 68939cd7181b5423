import { z } from 'zod';
import { errorSchema } from '../schemas';
import { REQUEST_HEADER_SCHEMAS, RETRY_AFTER_HEADER } from './headers';
import { declaredSchemaOf, type ApiDocs, type HeaderDoc, type RouteDoc } from './registry';

type JsonObject = Record<string, unknown>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'validation_error (details.fields names each bad field) or invalid_json (not JSON, nested more than 32 levels deep, or a lone surrogate escape)',
  401: 'unauthorized or invalid_credentials',
  403: 'forbidden: authenticated, but the role may not do this',
  404: 'not found (also for another user’s resource, and a list’s startingAfter that names none of its items)',
  405: 'method_not_allowed: the path exists, not with this method; the Allow header lists its methods',
  409: 'conflict: email_taken, wallet_exists, alias_taken, alias_limit_reached, or review_closed (a payment review already decided or timed out)',
  413: 'payload_too_large (over 64 KiB)',
  415: 'unsupported_media_type (send application/json)',
  422: 'idempotency_key_reused, currency_mismatch, self_payment, wallet_frozen or (transfers) recipient_is_merchant',
  429: 'rate_limited; see the Retry-After header',
  500: 'internal_error',
  503: 'service_unavailable: the database or Temporal is out of reach, or a lock wait outlasted its retries; try again after the Retry-After header’s seconds',
};

/** Methods whose body the API reads (api/middleware/json-body.ts), whether or not the route wants one. */
const WRITE_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/**
 * What any write can answer before its route runs, body or not: a body that is not JSON (400
 * invalid_json), too large (413) or of another content type (415).
 */
const BODY_ERRORS = [400, 413, 415];

/** Keywords of zod's conversion a declared schema keeps: what the field means and its default. */
const KEPT_KEYWORDS = new Set(['description', 'default']);

/** Puts a schema declared with `documentedAs` in place of zod's conversion of it (`documentedWith`: adds to it). */
function useDeclaredSchema({ zodSchema, jsonSchema }: { zodSchema: unknown; jsonSchema: JsonObject }): void {
  const declared = declaredSchemaOf(zodSchema as z.ZodType);
  if (!declared) return;
  if (declared.replaces) for (const key of Object.keys(jsonSchema)) if (!KEPT_KEYWORDS.has(key)) delete jsonSchema[key];
  Object.assign(jsonSchema, declared.jsonSchema);
}

/**
 * Turns a zod schema into an OpenAPI 3.1 (JSON Schema 2020-12) schema. Named
 * schemas (`.meta({ id })`) move to `components.schemas` and are referenced;
 * schemas declared with `documentedAs` are written as declared.
 */
function toSchema(schema: z.ZodType, io: 'input' | 'output', components: JsonObject): JsonObject {
  const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', override: useDeclaredSchema }) as JsonObject;
  const { $defs, ...rest } = converted;
  delete rest.$schema;
  for (const [name, definition] of Object.entries(($defs ?? {}) as JsonObject)) components[name] ??= rewriteRefs(definition);
  return rewriteRefs(rest) as JsonObject;
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as JsonObject).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string' ? item.replace('#/$defs/', '#/components/schemas/') : rewriteRefs(item),
    ]),
  );
}

/** `/v1/payments/:id` → `/v1/payments/{id}`. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:(\w+)/g, '{$1}');
}

/** OpenAPI header objects of a response's declared headers. */
function headerObjects(headers: Record<string, HeaderDoc>): JsonObject {
  return Object.fromEntries(Object.entries(headers).map(([name, { description, required, schema }]) => [name, { description, required, schema }]));
}

function operation(route: RouteDoc, components: JsonObject): JsonObject {
  const parameters: JsonObject[] = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (route.query) {
    const query = toSchema(route.query, 'input', components) as { properties?: JsonObject; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
    }
  }
  for (const [name, header] of Object.entries(route.headers ?? {})) {
    const { description, schema } = typeof header === 'string' ? { description: header, schema: REQUEST_HEADER_SCHEMAS[name] ?? { type: 'string' } } : header;
    parameters.push({ name, in: 'header', required: false, description, schema });
  }
  const responses: JsonObject = {};
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.headers ? { headers: headerObjects(response.headers) } : {}),
      ...(response.schema ? { content: { 'application/json': { schema: toSchema(response.schema, 'output', components) } } } : {}),
    };
  }
  const bodyErrors = WRITE_METHODS.has(route.method) ? BODY_ERRORS : [];
  // A cursor that names no item of the list is 404 (api/pagination.ts).
  const cursorErrors = route.query && 'startingAfter' in route.query.shape ? [404] : [];
  const serviceErrors = route.dependsOnServices === false ? [] : [503];
  for (const status of [...new Set([...route.errors, ...bodyErrors, ...cursorErrors, ...(route.auth ? [401] : []), ...serviceErrors, 500])].sort((a, b) => a - b)) {
    responses[String(status)] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'error',
      ...(status === 429 || status === 503 ? { headers: headerObjects({ 'Retry-After': RETRY_AFTER_HEADER }) } : {}),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return {
    summary: route.summary,
    tags: [route.tag],
    operationId: `${route.method}${openApiPath(route.path).replace(/[^\w]+(\w)?/g, (_, letter: string | undefined) => (letter ?? '').toUpperCase())}`,
    ...(route.auth ? { security: [{ bearerAuth: [] }] } : { security: [] }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input', components) } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of every registered route. */
export function buildOpenApiDocument(docs: ApiDocs, version: string): JsonObject {
  const components: JsonObject = {};
  toSchema(errorSchema, 'output', components);
  const paths: Record<string, JsonObject> = {};
  for (const route of docs.routes) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operation(route, components) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'SagaPay API',
      version,
      description:
        'E-wallet and merchant payments. Money is integer minor units; money-moving POSTs honour Idempotency-Key; errors share one shape. A method a path does not have (any method, known to HTTP or not) is 405 method_not_allowed with an Allow header. The contract in words: docs/api.md in the repository. The web wallet the API also serves (GET / and deep links outside these paths) is not part of this document.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(docs.routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
