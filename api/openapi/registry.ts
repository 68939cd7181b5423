import type { z } from 'zod';

/** One documented response header: what it says, whether every such answer carries it, and its value's JSON Schema. */
export interface HeaderDoc {
  description: string;
  required: boolean;
  /** The value's schema; `integer` means the header is a decimal integer. */
  schema: Record<string, unknown>;
}

/** A request header a route reads: what it means and the values it accepts. */
export interface RequestHeaderDoc {
  description: string;
  schema: Record<string, unknown>;
}

/** One documented response of a route. */
export interface ResponseDoc {
  description: string;
  /** The body's schema; omitted for a body-less answer. */
  schema?: z.ZodType;
  /** Response headers the answer carries, by name (see `./headers`: Location, Idempotent-Replayed). */
  headers?: Record<string, HeaderDoc>;
}

/**
 * What the OpenAPI document says about one route. Routes register it next to
 * their handler with the same zod schemas they validate with, so the document
 * cannot drift from what the code accepts.
 */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The Koa path, e.g. `/v1/payments/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Needs `Authorization: Bearer …`. */
  auth: boolean;
  /** The JSON body's schema (writes). */
  body?: z.ZodType;
  /** The query string's schema (lists). */
  query?: z.ZodObject;
  /**
   * Request headers the route reads, by name → description (its schema then the one
   * `REQUEST_HEADER_SCHEMAS` of ./headers gives the name, or any string), or with its own schema.
   */
  headers?: Record<string, string | RequestHeaderDoc>;
  /** Success answers by status. */
  responses: Record<number, ResponseDoc>;
  /** Error statuses this route can answer with (the contract's error shape); 500 is always added. */
  errors: readonly number[];
  /**
   * false for a route that answers without the database or Temporal (liveness, readiness, the
   * documentation); every other route can answer 503 `service_unavailable`, which is added.
   */
  dependsOnServices?: false;
}

/** The routes of the app as documentation: filled by the route factories, read by the OpenAPI builder. */
export class ApiDocs {
  readonly routes: RouteDoc[] = [];

  /** Registers a route's documentation. */
  add(route: RouteDoc): void {
    if (this.routes.some((known) => known.method === route.method && known.path === route.path)) {
      throw new Error(`route ${route.method.toUpperCase()} ${route.path} is documented twice`);
    }
    this.routes.push(route);
  }
}

/** What the document says instead of (or on top of) zod's conversion, for the schemas that declared it. */
const declaredSchemas = new WeakMap<z.ZodType, { jsonSchema: Record<string, unknown>; replaces: boolean }>();

/**
 * Declares the JSON Schema the OpenAPI document shows for `schema`, where zod's conversion cannot
 * say what validation accepts: a `.pipe` documents only its input side, a `.transform` or
 * `.refine` nothing. `jsonSchema` must accept exactly what `schema` accepts (test/openapi.test.ts
 * and `npm run fuzz:schemathesis` hold it to that); its description and default stay zod's.
 */
export function documentedAs<Schema extends z.ZodType>(schema: Schema, jsonSchema: Record<string, unknown>): Schema {
  declaredSchemas.set(schema, { jsonSchema, replaces: true });
  return schema;
}

/**
 * Adds keywords to zod's conversion of `schema`, for a rule a `.superRefine` checks that JSON
 * Schema can say, e.g. "exactly one of these fields" as a `oneOf` of `required` lists.
 */
export function documentedWith<Schema extends z.ZodType>(schema: Schema, keywords: Record<string, unknown>): Schema {
  declaredSchemas.set(schema, { jsonSchema: keywords, replaces: false });
  return schema;
}

/**
 * What `documentedAs` or `documentedWith` declared for `schema`, if anything; also for a copy
 * `.describe()` or `.meta()` made of a declared schema (zod links the copy to it as its parent).
 */
export function declaredSchemaOf(schema: z.ZodType): { jsonSchema: Record<string, unknown>; replaces: boolean } | undefined {
  for (let current: z.ZodType | undefined = schema; current; current = (current._zod as { parent?: z.ZodType }).parent) {
    const declared = declaredSchemas.get(current);
    if (declared) return declared;
  }
  return undefined;
}

/** "Exactly one of these fields", in JSON Schema. */
export function exactlyOneOf(fields: readonly string[]): Record<string, unknown> {
  return { oneOf: fields.map((field) => ({ required: [field] })) };
}

/**
 * What `String.prototype.trim` removes (ECMAScript WhiteSpace and LineTerminator), as a regular
 * expression class spelled out: `\s` differs between JavaScript and the fuzzer's Python.
 */
export const TRIMMED_SPACE = '[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]';

/** zod's e-mail pattern (`z.email()`), which the document repeats wherever an address is validated. */
export const EMAIL_PATTERN = '(?:[A-Za-z0-9_\'+\\-]+\\.)*[A-Za-z0-9_\'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}';

/** A text that is more than what `trim()` removes: at least one other character. */
export const NOT_ONLY_SPACE = TRIMMED_SPACE.replace('[', '[^');
