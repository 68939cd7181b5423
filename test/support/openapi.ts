import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildRouters } from '../../api/app';
import type { AppDependencies } from '../../api/dependencies';
import { buildOpenApiDocument } from '../../api/openapi/document';
import type { Config } from '../../config';

type JsonObject = Record<string, unknown>;

/** An OpenAPI header object as the document builder writes it. */
interface HeaderObject {
  required?: boolean;
  schema: JsonObject;
}

/** A header's text as its schema's type: an `integer` header is a decimal number (anything else stays text and fails). */
function headerValue(value: string, schema: JsonObject): unknown {
  return schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
}

/** The API's OpenAPI document as the app builds it for `config` (no I/O: routers only register). */
export function openApiDocumentFor(config: Config): JsonObject {
  const { docs } = buildRouters({ config } as unknown as AppDependencies);
  return buildOpenApiDocument(docs, 'test');
}

/** The headers this API sets on some answers: where the document does not declare one, it must be absent. */
const POLICED_HEADERS = ['Location', 'Retry-After', 'Idempotent-Replayed'] as const;

/** An answer as the validator judges it. */
export interface AnsweredResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * Checks HTTP answers against the OpenAPI document: the status must be documented
 * for the route, the body must match its schema, every header the document declares
 * for that answer must be there when required and well-formed when sent, and the
 * API's own headers (Location, Retry-After, Idempotent-Replayed) must not appear
 * where the document does not declare them. Integration tests run every response
 * they get through it, so the document cannot drift from the code.
 */
export class ResponseValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: Array<{ pattern: RegExp; path: string; specificity: number }>;

  constructor(private readonly document: JsonObject) {
    addFormats(this.ajv);
    this.routes = Object.keys(document.paths as JsonObject).map((path) => ({
      path,
      pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`),
      specificity: path.split('/').filter((segment) => segment !== '' && !segment.startsWith('{')).length,
    }));
  }

  /** Throws with a readable reason when `response` is not what the document promises for this call. */
  validate(method: string, url: string, response: AnsweredResponse): void {
    const { status, body } = response;
    const path = url.split('?')[0] ?? url;
    const what = `${method} ${path} → ${status}`;
    const route = this.routes.filter((candidate) => candidate.pattern.test(path)).sort((a, b) => b.specificity - a.specificity)[0];
    const operation = route ? ((this.document.paths as Record<string, JsonObject>)[route.path]?.[method.toLowerCase()] as JsonObject | undefined) : undefined;
    if (!route || !operation) {
      // Not a documented operation (404/405 probes): the answer must still be the error shape.
      if (status >= 400) this.check(`error`, this.errorSchema(), body, `${what}: the body`);
      this.checkHeaders(`error`, {}, response.headers, what);
      return;
    }
    const documented = (operation.responses as Record<string, JsonObject>)[String(status)];
    if (!documented) throw new Error(`${method} ${route.path} answered ${status}, which the OpenAPI document does not list`);
    const key = `${method} ${route.path} ${status}`;
    const schema = ((documented.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined)?.schema;
    if (schema) this.check(key, schema as JsonObject, body, `${what}: the body`);
    this.checkHeaders(key, (documented.headers ?? {}) as Record<string, HeaderObject>, response.headers, what);
  }

  private checkHeaders(key: string, declared: Record<string, HeaderObject>, headers: Headers, what: string): void {
    for (const [name, header] of Object.entries(declared)) {
      const value = headers.get(name);
      if (value === null) {
        if (header.required) throw new Error(`${what}: the OpenAPI document declares header ${name} as required, but the answer has none`);
        continue;
      }
      this.check(`${key} header ${name}`, header.schema, headerValue(value, header.schema), `${what}: header ${name}: ${JSON.stringify(value)}`);
    }
    const declaredNames = new Set(Object.keys(declared).map((name) => name.toLowerCase()));
    for (const name of POLICED_HEADERS) {
      if (headers.has(name) && !declaredNames.has(name.toLowerCase())) {
        throw new Error(`${what}: the answer sends header ${name}, which the OpenAPI document does not declare for it`);
      }
    }
  }

  private errorSchema(): JsonObject {
    return { $ref: '#/components/schemas/Error' };
  }

  private check(key: string, schema: JsonObject, body: unknown, what: string): void {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile({ ...schema, components: this.document.components });
      this.compiled.set(key, validate);
    }
    if (!validate(body)) {
      throw new Error(`${what}: does not match the OpenAPI document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
    }
  }
}
