import type { z } from 'zod';

/** One documented response header: what it says, whether every such answer carries it, and its value's JSON Schema. */
export interface HeaderDoc {
  description: string;
  required: boolean;
  /** The value's schema; `integer` means the header is a decimal integer. */
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
  /** Request headers the route reads, by name → description. */
  headers?: Record<string, string>;
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
