import fc from 'fast-check';
import { hasInvalidValues, invalidValue, validValue, type JsonSchema, type SchemaContext } from './schema-arbitrary';
import { ACTOR_NAMES, Ref, type ActorName, type RefKind, type World } from './world';

/** One operation of the OpenAPI document. */
export interface Operation {
  /** `METHOD /path/{param}` as the document writes it. */
  key: string;
  method: string;
  path: string;
  parameters: Array<{ name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: JsonSchema }>;
  body?: JsonSchema;
}

/** Every operation of an OpenAPI document. */
export function operationsOf(document: Record<string, unknown>): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters = ((operation.parameters ?? []) as Array<Record<string, unknown>>).map((parameter) => ({
        name: String(parameter.name),
        in: parameter.in as 'path' | 'query' | 'header',
        required: parameter.required === true,
        schema: (parameter.schema ?? {}) as JsonSchema,
      }));
      const content = (operation.requestBody as { content?: Record<string, { schema?: JsonSchema }> } | undefined)?.content;
      const body = content?.['application/json']?.schema;
      operations.push({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, parameters, body });
    }
  }
  return operations;
}

/** A value to send: literal JSON, or a `Ref` to a real value picked when sending. */
type Value = unknown;

/** How a request authenticates. */
export type AuthPlan = { kind: 'actor' } | { kind: 'raw'; value: Value } | { kind: 'none' };

/** What a request body is. */
export type BodyPlan = { kind: 'none' } | { kind: 'json'; value: Value } | { kind: 'raw'; text: string };

/** A generated request, before its refs are resolved. */
export interface RequestPlan {
  operation: string;
  method: string;
  path: string;
  actor: ActorName;
  auth: AuthPlan;
  pathParams: Record<string, Value>;
  query: Array<[string, Value]>;
  rawQuery: string;
  headers: Record<string, Value>;
  contentType: string | null;
  body: BodyPlan;
  /** Send it a second time, unchanged: with an Idempotency-Key, an accepted write must replay. */
  replay: boolean;
}

/** A request ready to send. */
export interface ResolvedRequest {
  method: string;
  /** Path and query string. */
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** The JSON value of the body, when it was one. */
  json: unknown;
}

const refOf = (kind: RefKind) => fc.nat({ max: 63 }).map((pick) => new Ref(kind, pick));

/** Characters a header value may carry as fetch sends it (latin-1, no control characters). */
const headerCharacter = fc.integer({ min: 0x20, max: 0xff }).filter((code) => code !== 0x7f).map((code) => String.fromCharCode(code));
const printableCharacter = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));

/** Junk where an id goes: empty, unicode, overlong, traversal, malformed percent-encoding, other resources' ids. */
const junkId: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom('0', '-1', 'null', 'undefined', '..', '%2e%2e', '%', '%zz', '%00', 'a%2Fb', '%E2%82', "'; DROP TABLE users; --", 'x'.repeat(300), 'pay_', 'wal_00000000000000000000000000', 'usr_01ARZ3NDEKTSV4RRFFQ69G5FAV'),
  fc.string({ minLength: 1, maxLength: 40 }).map((text) => encodeURIComponent(text)),
  fc.string({ minLength: 1, maxLength: 10, unit: 'binary' }).map((text) => encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, 'x'))),
  refOf('anyId'),
);

/** The real values a path parameter can name, by the path it sits in. */
function pathParamRef(path: string, name: string): fc.Arbitrary<Value> | undefined {
  if (name === 'alias') return refOf('alias');
  if (name === 'file') return refOf('asset');
  if (/\/wallets\/\{id\}/.test(path)) return fc.oneof({ weight: 3, arbitrary: refOf('ownWallet') }, { weight: 1, arbitrary: refOf('wallet') });
  if (/\/payments\/\{id\}/.test(path)) return refOf('payment');
  if (/\/refunds\/\{id\}/.test(path)) return refOf('refund');
  if (/\/transfers\/\{id\}/.test(path)) return refOf('transfer');
  if (/\/blocklist\/\{id\}/.test(path)) return refOf('blocklist');
  return undefined;
}

/** Real values for fields the document names, so valid requests reach past "not found". */
function hintsFor(): Record<string, fc.Arbitrary<unknown>> {
  const handle = fc.stringMatching(/^[a-z0-9_]{3,30}$/).map((name) => `@${name}`);
  return {
    merchantId: refOf('merchantId'),
    merchant: refOf('handle'),
    sourceWalletId: fc.oneof(refOf('ownWallet'), refOf('wallet')),
    toUserId: refOf('userId'),
    toEmail: refOf('email'),
    to: fc.oneof(refOf('handle'), refOf('email')),
    email: fc.oneof(refOf('email'), fc.stringMatching(/^[a-z0-9.]{1,12}@example\.test$/)),
    password: fc.oneof(refOf('password'), fc.string({ minLength: 8, maxLength: 20 })),
    currentPassword: refOf('ownPassword'),
    url: fc.oneof(refOf('webhookUrl'), fc.constantFrom('http://127.0.0.1:1/hook', 'ftp://example.test/', 'javascript:alert(1)', 'http://[::1]/', 'not a url')),
    alias: handle,
    actor: refOf('userId'),
    resourceId: refOf('anyId'),
    startingAfter: refOf('anyId'),
    currency: fc.constantFrom('USD', 'USD', 'USD', 'EUR'),
    limit: fc.constantFrom('1', '20', '100'),
  };
}

/** Values of a query parameter: absent, valid, invalid, repeated. */
function queryValues(parameter: Operation['parameters'][number], context: SchemaContext): fc.Arbitrary<Array<[string, Value]>> {
  const { name, schema, required } = parameter;
  const valid = context.hints?.[name] ? fc.oneof(context.hints[name], validValue(schema, context)) : validValue(schema, context);
  const invalid = hasInvalidValues(schema, context) ? invalidValue(schema, context).map((value) => (typeof value === 'string' ? value : JSON.stringify(value))) : valid;
  const choices: Array<fc.WeightedArbitrary<Array<[string, Value]>>> = [
    { weight: 5, arbitrary: valid.map((value) => [[name, value]]) },
    { weight: 1, arbitrary: invalid.map((value) => [[name, value]]) },
    { weight: 1, arbitrary: fc.tuple(valid, valid).map(([first, second]) => [[name, first], [name, second]]) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '%', '%zz').map((value) => [[name, value]]) },
  ];
  if (!required) choices.push({ weight: 6, arbitrary: fc.constant([]) });
  return fc.oneof(...choices);
}

/** Authorization headers that must not let anyone in. */
const badAuthorization: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom('Bearer', 'Bearer ', 'Bearer x.y.z', 'Basic dXNlcjpwYXNzd29yZA==', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.', 'Token abc', 'bearer'),
  refOf('forgedToken').map((ref) => ({ bearer: ref })),
  refOf('unsignedToken').map((ref) => ({ bearer: ref })),
  fc.string({ unit: headerCharacter, maxLength: 60 }),
);

/** Who sends a request: mostly the signed-up actors, now and then nobody. */
const actorChoice: fc.Arbitrary<ActorName> = fc.oneof(
  { weight: 1, arbitrary: fc.constant('anonymous' as const) },
  { weight: 3, arbitrary: fc.constant('customer' as const) },
  { weight: 1, arbitrary: fc.constant('customer2' as const) },
  { weight: 2, arbitrary: fc.constant('merchant' as const) },
  { weight: 2, arbitrary: fc.constant('admin' as const) },
);

const authPlan: fc.Arbitrary<AuthPlan> = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ kind: 'actor' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: badAuthorization.map((value) => ({ kind: 'raw' as const, value })) },
  { weight: 1, arbitrary: refOf('otherActorToken').map((ref) => ({ kind: 'raw' as const, value: { bearer: ref } })) },
);

/** Idempotency keys: valid ones (some reused on purpose, to meet `idempotency_key_reused`), and invalid ones. */
const idempotencyKey: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: printableCharacter, minLength: 1, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom('key-1', 'key-2', 'key-3') },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'k'.repeat(255), 'k'.repeat(256), 'k'.repeat(4_000), 'clé', 'a b', '\t') },
  { weight: 1, arbitrary: fc.string({ unit: headerCharacter, minLength: 1, maxLength: 30 }) },
);

/** A header sent now and then: `weight` in five requests carry it. */
function sometimes(arbitrary: fc.Arbitrary<Value>, weight = 1): fc.Arbitrary<Value> {
  return fc.oneof({ weight: 5 - weight, arbitrary: fc.constant(undefined) }, { weight, arbitrary });
}

function headerPlan(operation: Operation): fc.Arbitrary<Record<string, Value>> {
  const declared = new Set(operation.parameters.filter((parameter) => parameter.in === 'header').map((parameter) => parameter.name));
  const junk = fc.string({ unit: headerCharacter, maxLength: 30 });
  const model: Record<string, fc.Arbitrary<Value>> = {
    'X-Request-Id': sometimes(fc.oneof(fc.string({ unit: printableCharacter, minLength: 1, maxLength: 20 }), junk, fc.constant('r'.repeat(2_000)))),
    Accept: sometimes(fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml')),
  };
  if (declared.has('Idempotency-Key')) model['Idempotency-Key'] = sometimes(idempotencyKey, 3);
  if (declared.has('Prefer')) model.Prefer = sometimes(fc.oneof(fc.constant('respond-async'), junk));
  if (declared.has('X-Saga-Fault')) model['X-Saga-Fault'] = sometimes(fc.oneof(fc.constantFrom('validate', 'debit_payer', 'credit_merchant', 'debit_merchant', 'credit_recipient', 'notify', 'risk_check'), junk));
  if (declared.has('Cookie')) model.Cookie = sometimes(fc.oneof(fc.constantFrom('sagapay_refresh=abc', 'sagapay_refresh=', 'a=b; sagapay_refresh=%zz'), junk), 3);
  return fc.record(model);
}

/** Raw bodies that are not the JSON the operation wants: broken JSON, odd JSON, over the size limit. */
const rawBody = fc.oneof(
  fc.constantFrom('{', '{"amount":', 'nul', '[1,2', "{'a':1}", '', ' ', '{"amount":1,"amount":2}', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{}}}', '\uFEFF{}', '1e999'),
  fc.string({ maxLength: 30 }),
  fc.constant(JSON.stringify({ padding: 'p'.repeat(70 * 1024) })),
  fc.constant(`${'['.repeat(5_000)}${']'.repeat(5_000)}`),
);

/** Fields a client must not be able to set, sent as extras. */
const extraField = fc.tuple(
  fc.oneof(fc.constantFrom('fee', 'status', 'balance', 'role', 'held', 'userId', 'id', 'netAmount', 'refundedAmount'), fc.string({ maxLength: 10 })),
  fc.jsonValue({ maxDepth: 1 }),
);

const smallAmount = fc.integer({ min: 1, max: 300 });
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
const withoutUndefined = (value: Record<string, unknown>) => Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined));

/**
 * Plausible bodies by operation, mixed in with what the schema alone gives: the schema cannot say
 * that a login's e-mail and password belong together, or that one recipient field is enough.
 */
const PLAUSIBLE_BODIES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  'POST /v1/auth/register': fc.record({
    email: fc.stringMatching(/^[a-z0-9]{4,12}$/).map((name) => `fuzz.${name}@example.test`),
    password: fc.string({ minLength: 8, maxLength: 20 }),
    name: fc.string({ minLength: 1, maxLength: 20 }),
    role: optional(fc.constantFrom('customer', 'merchant')),
    currency: optional(fc.constantFrom('USD', 'EUR')),
  }),
  'POST /v1/auth/login': fc.nat({ max: 63 }).map((pick) => ({ email: new Ref('email', pick), password: new Ref('password', pick) })),
  'POST /v1/me/password': fc.nat({ max: 1_000 }).map((suffix) => ({ currentPassword: new Ref('ownPassword', 0), newPassword: `fuzz-password-${suffix}` })),
  'POST /v1/wallets/{id}/topups': fc.record({ amount: smallAmount, currency: fc.constantFrom('USD', 'USD', 'EUR') }),
  'POST /v1/payments': fc.record({
    merchantId: refOf('merchantId'),
    amount: smallAmount,
    currency: fc.constant('USD'),
    description: optional(fc.string({ maxLength: 40 })),
  }),
  'POST /v1/payments/{id}/refunds': fc.record({ amount: optional(fc.integer({ min: 1, max: 60 })), reason: optional(fc.string({ maxLength: 30 })) }),
  'POST /v1/transfers': fc.record({
    recipient: fc.oneof(refOf('userId').map((ref) => ({ toUserId: ref })), refOf('email').map((ref) => ({ toEmail: ref })), refOf('handle').map((ref) => ({ to: ref }))),
    amount: smallAmount,
    currency: fc.constant('USD'),
    note: optional(fc.string({ maxLength: 30 })),
  }).map(({ recipient, ...rest }) => ({ ...recipient, ...rest })),
  'PUT /v1/merchant/webhook': refOf('webhookUrl').map((url) => ({ url })),
  'POST /v1/me/aliases': fc.stringMatching(/^[a-z0-9_]{3,30}$/).map((name) => ({ alias: `@${name}` })),
};

function bodyPlan(operation: Operation, context: SchemaContext): fc.Arbitrary<BodyPlan> {
  const raw = rawBody.map((text) => ({ kind: 'raw' as const, text }));
  if (!operation.body) {
    return fc.oneof({ weight: 8, arbitrary: fc.constant({ kind: 'none' as const }) }, { weight: 1, arbitrary: raw }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value) => ({ kind: 'json' as const, value })) });
  }
  const plausible = PLAUSIBLE_BODIES[operation.key];
  const valid = plausible ? fc.oneof({ weight: 2, arbitrary: plausible.map(withoutUndefined) }, { weight: 1, arbitrary: validValue(operation.body, context) }) : validValue(operation.body, context);
  return fc.oneof(
    { weight: 8, arbitrary: valid.map((value) => ({ kind: 'json' as const, value })) },
    { weight: 3, arbitrary: invalidValue(operation.body, context).map((value) => ({ kind: 'json' as const, value })) },
    { weight: 1, arbitrary: fc.tuple(valid, extraField).map(([value, [name, extra]]) => ({ kind: 'json' as const, value: { ...(value as object), [name]: extra } })) },
    { weight: 1, arbitrary: raw },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  );
}

const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', 'application/jsonx') },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** Generated requests for one operation: its actors, path parameters (real and junk), query, headers and body. */
export function requestPlans(operation: Operation, components: Record<string, unknown>): fc.Arbitrary<RequestPlan> {
  return fc.oneof({ weight: 2, arbitrary: noisyPlans(operation, components) }, { weight: 1, arbitrary: wellFormedPlans(operation, components) });
}

/** Requests with a fault or more anywhere: credentials, path, query, headers, content type, body. */
function noisyPlans(operation: Operation, components: Record<string, unknown>): fc.Arbitrary<RequestPlan> {
  const context: SchemaContext = { components, hints: hintsFor() };
  const pathModel: Record<string, fc.Arbitrary<Value>> = {};
  for (const parameter of operation.parameters.filter((item) => item.in === 'path')) {
    const real = pathParamRef(operation.path, parameter.name);
    pathModel[parameter.name] = real ? fc.oneof({ weight: 4, arbitrary: real }, { weight: 1, arbitrary: junkId }) : junkId;
  }
  const query = fc.tuple(...operation.parameters.filter((item) => item.in === 'query').map((parameter) => queryValues(parameter, context))).map((lists) => lists.flat());
  return fc.record({
    operation: fc.constant(operation.key),
    method: fc.constant(operation.method),
    path: fc.constant(operation.path),
    actor: actorChoice,
    auth: authPlan,
    pathParams: fc.record(pathModel),
    query,
    rawQuery: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('&unknown=1', '&limit=%', '&%zz=1', '&limit[]=1', '&startingAfter[x]=y', '&=&&') }),
    headers: headerPlan(operation),
    contentType,
    body: bodyPlan(operation, context),
    replay: fc.constant(false),
  });
}

/**
 * Requests with nothing wrong in their form (an actor's own token, real ids, valid query, headers
 * and body): what they meet is the state of the world, so money really moves, sagas run, and refusals
 * come from the business rules (funds, frozen wallets, roles, ownership).
 */
function wellFormedPlans(operation: Operation, components: Record<string, unknown>): fc.Arbitrary<RequestPlan> {
  const context: SchemaContext = { components, hints: hintsFor() };
  const pathModel: Record<string, fc.Arbitrary<Value>> = {};
  for (const parameter of operation.parameters.filter((item) => item.in === 'path')) pathModel[parameter.name] = pathParamRef(operation.path, parameter.name) ?? junkId;
  const query = fc.tuple(
    ...operation.parameters
      .filter((item) => item.in === 'query')
      .map(({ name, schema, required }) => {
        const valid = (context.hints?.[name] ?? validValue(schema, context)).map((value): Array<[string, Value]> => [[name, value]]);
        return required ? valid : fc.oneof(fc.constant([]), valid);
      }),
  ).map((lists) => lists.flat());
  const declared = new Set(operation.parameters.map((parameter) => parameter.name));
  const headers: Record<string, fc.Arbitrary<Value>> = {};
  if (declared.has('Idempotency-Key')) headers['Idempotency-Key'] = sometimes(fc.string({ unit: printableCharacter, minLength: 1, maxLength: 40 }), 4);
  if (declared.has('Prefer')) headers.Prefer = sometimes(fc.constant('respond-async'));
  const plausible = PLAUSIBLE_BODIES[operation.key];
  const body: fc.Arbitrary<BodyPlan> = operation.body
    ? (plausible ? plausible.map(withoutUndefined) : validValue(operation.body, context)).map((value) => ({ kind: 'json' as const, value }))
    : fc.constant({ kind: 'none' as const });
  return fc.record({
    operation: fc.constant(operation.key),
    method: fc.constant(operation.method),
    path: fc.constant(operation.path),
    actor: actorChoice.filter((actor) => actor !== 'anonymous'),
    auth: fc.constant({ kind: 'actor' as const }),
    pathParams: fc.record(pathModel),
    query,
    rawQuery: fc.constant(''),
    headers: fc.record(headers),
    contentType: fc.constant('application/json'),
    body,
    replay: fc.boolean(),
  });
}

/** Requests to paths and methods the document does not have: they must still answer in the error shape. */
export function undocumentedPlans(operations: Operation[]): fc.Arbitrary<RequestPlan> {
  const paths = [...new Set(operations.map((operation) => operation.path))];
  const path = fc.oneof(fc.constantFrom(...paths), fc.constantFrom('/v1', '/v1/', '/v1/nope', '/v2/payments', '/v1/payments/', '/v1//payments', '/%', '/v1/wallets/%zz/transactions'));
  return fc.record({
    operation: fc.constant('undocumented'),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PURGE', 'PROPFIND'),
    path,
    actor: fc.constantFrom(...ACTOR_NAMES),
    auth: fc.constant({ kind: 'actor' as const }),
    pathParams: fc.constant({}),
    query: fc.constant([]),
    rawQuery: fc.constant(''),
    headers: fc.constant({}),
    contentType: fc.constant('application/json'),
    body: fc.oneof(fc.constant({ kind: 'none' as const }), fc.constant({ kind: 'json' as const, value: {} })),
    replay: fc.constant(false),
  });
}

/** Replaces every ref in a value with what it names now. */
function resolveValue(value: Value, world: World, actor: ActorName): unknown {
  if (value instanceof Ref) return world.resolve(value, actor);
  if (Array.isArray(value)) return value.map((item) => resolveValue(item, world, actor));
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if ('bearer' in object && object.bearer instanceof Ref && Object.keys(object).length === 1) return `Bearer ${world.resolve(object.bearer, actor)}`;
    return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, resolveValue(item, world, actor)]));
  }
  return value;
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The request a plan stands for, with the world's current ids, tokens and passwords. */
export function resolvePlan(plan: RequestPlan, world: World): ResolvedRequest {
  const { actor } = plan;
  const path = plan.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = resolveValue(plan.pathParams[name], world, actor);
    return value instanceof Object ? encodeURIComponent(asText(value)) : asText(value);
  });
  const query = plan.query.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(asText(resolveValue(value, world, actor)))}`).join('&');
  const search = query || plan.rawQuery ? `?${query}${plan.rawQuery}` : '';
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(plan.headers)) if (value !== undefined) headers[name] = asText(resolveValue(value, world, actor));
  const token = world.tokenOf(actor);
  if (plan.auth.kind === 'actor' && token) headers.Authorization = `Bearer ${token}`;
  if (plan.auth.kind === 'raw') headers.Authorization = asText(resolveValue(plan.auth.value, world, actor));
  let body: string | undefined;
  let json: unknown;
  if (plan.body.kind === 'json') {
    json = resolveValue(plan.body.value, world, actor);
    body = JSON.stringify(json);
  } else if (plan.body.kind === 'raw') body = plan.body.text;
  if (body !== undefined && plan.contentType) headers['Content-Type'] = plan.contentType;
  return { method: plan.method, url: `${path}${search}`, headers, body, json };
}
