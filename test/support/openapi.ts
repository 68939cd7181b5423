import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildRouters } from '../../api/app';
import type { AppDependencies } from '../../api/dependencies';
import { buildOpenApiDocument } from '../../api/openapi/document';
import type { Config } from '../../config';

type JsonObject = Record<string, unknown>;

/** The API's OpenAPI document as the app builds it for `config` (no I/O: routers only register). */
export function openApiDocumentFor(config: Config): JsonObject {
  const { docs } = buildRouters({ config } as unknown as AppDependencies);
  return buildOpenApiDocument(docs, 'test');
}

/**
 * Checks HTTP answers against the OpenAPI document: the status must be documented
 * for the route, and the body must match its schema. Integration tests run every
 * response they get through it, so the document cannot drift from the code.
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

  /** Throws with a readable reason when `body` is not what the document promises for this call. */
  validate(method: string, url: string, status: number, body: unknown): void {
    const path = url.split('?')[0] ?? url;
    const route = this.routes.filter((candidate) => candidate.pattern.test(path)).sort((a, b) => b.specificity - a.specificity)[0];
    const operation = route ? ((this.document.paths as Record<string, JsonObject>)[route.path]?.[method.toLowerCase()] as JsonObject | undefined) : undefined;
    if (!route || !operation) {
      // Not a documented operation (404/405 probes): the answer must still be the error shape.
      if (status >= 400) this.check(`error`, this.errorSchema(), body, `${method} ${path} → ${status}`);
      return;
    }
    const response = (operation.responses as Record<string, JsonObject>)[String(status)];
    if (!response) throw new Error(`${method} ${route.path} answered ${status}, which the OpenAPI document does not list`);
    const schema = ((response.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined)?.schema;
    if (schema) this.check(`${method} ${route.path} ${status}`, schema as JsonObject, body, `${method} ${path} → ${status}`);
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
      throw new Error(`${what}: the body does not match the OpenAPI document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
    }
  }
}
