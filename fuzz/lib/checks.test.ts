import { openApiDocumentFor, ResponseValidator } from '../../test/support/openapi';
import { testConfig } from '../../test/support/stack';
import { contractViolations, type Answer } from './checks';

const config = testConfig();
const validator = new ResponseValidator(openApiDocumentFor(config));
const secrets = { jwtSecret: 'the-jwt-secret-of-this-test-0123456789', databasePassword: 'db-password-42' };

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return { status, body, text: typeof body === 'string' ? body : JSON.stringify(body), headers: new Headers({ 'x-request-id': 'req_1', ...headers }) };
}

const notFound = { error: { code: 'not_found', message: 'No such payment.', requestId: 'req_1' } };

describe('the fuzzer’s checks of one answer', () => {
  it('when an answer is a documented error in the contract’s shape, then nothing is wrong', () => {
    expect(contractViolations('GET', '/v1/payments/pay_1', answer(404, notFound), validator, secrets)).toEqual([]);
  });

  it('when an answer is a 5xx, then it is a violation, except the 503 of /readyz', () => {
    const internal = { error: { code: 'internal_error', message: 'Something went wrong.', requestId: 'req_1' } };
    expect(contractViolations('GET', '/v1/payments/pay_1', answer(500, internal), validator, secrets)).toContain('answered 500');
    expect(contractViolations('GET', '/readyz', answer(503, { status: 'unavailable', checks: {} }), validator, secrets)).not.toContain('answered 503');
  });

  it('when a status is not in the document for the operation, then it is a violation', () => {
    const problems = contractViolations('GET', '/v1/payments/pay_1', answer(409, { error: { code: 'conflict', message: 'x', requestId: 'req_1' } }), validator, secrets);
    expect(problems.join('\n')).toMatch(/answered 409, which the OpenAPI document does not list/);
  });

  it('when an error is not in the contract’s shape, then it is a violation', () => {
    expect(contractViolations('GET', '/v1/payments/pay_1', answer(404, { message: 'nope' }), validator, secrets).join('\n')).toMatch(/without the error shape/);
    expect(contractViolations('GET', '/v1/payments/pay_1', answer(404, { error: { code: 'NotFound', message: 'x', requestId: 'req_1' } }), validator, secrets).join('\n')).toMatch(/not snake_case/);
    expect(contractViolations('GET', '/v1/payments/pay_1', answer(404, { error: { code: 'not_found', message: 'x', requestId: 'req_2' } }), validator, secrets).join('\n')).toMatch(/is not the X-Request-Id/);
    expect(contractViolations('GET', '/v1/nowhere', answer(404, 'Not Found'), validator, secrets).join('\n')).toMatch(/without the error shape/);
  });

  it('when a body shows a stack trace, SQL, a password hash or a secret, then it is a violation', () => {
    const leaking = (message: string) => contractViolations('GET', '/v1/payments/pay_1', answer(404, { error: { code: 'not_found', message, requestId: 'req_1' } }), validator, secrets).join('\n');
    expect(leaking('TypeError: x\n    at handler (/app/api/routes/payments.ts:12:5)')).toMatch(/a stack trace/);
    expect(leaking("ER_DUP_ENTRY: Duplicate entry 'x' for key 'email'")).toMatch(/SQL/);
    expect(leaking('$argon2id$v=19$m=19456,t=2,p=1$abc')).toMatch(/a password hash/);
    expect(leaking(`secret ${secrets.jwtSecret}`)).toMatch(/the JWT secret/);
    expect(leaking(`mysql://root:${secrets.databasePassword}@db`)).toMatch(/the database password/);
  });
});
