import { hashPassword } from '../../api/auth/passwords';
import { insertUser } from '../../api/users';
import { uniqueEmail } from './fixtures';
import { request, type TestResponse } from './http';
import { openApiDocumentFor, ResponseValidator } from './openapi';
import { expectLedgerInvariants } from './own-sagas';
import type { ReconciliationReport } from '../../store/reconciliation';
import { waitFor, type TestStack } from './stack';

/** A wallet as the API returns it. */
export interface WalletBody {
  id: string;
  userId: string;
  currency: string;
  balance: number;
  status: string;
}

/** The contract's error body. */
export interface ErrorBody {
  error: { code: string; message: string; details?: { fields?: Record<string, string> }; requestId: string };
}

/** A signed-up user as tests drive them. */
export interface Actor {
  email: string;
  token: string;
  user: { id: string; role: string; [field: string]: unknown };
  wallet: WalletBody;
}

/** Test helpers that act through the public API, like a client would. */
export function actorsOf(stack: TestStack) {
  const validator = new ResponseValidator(openApiDocumentFor(stack.config));
  /** One request; its answer is checked against the OpenAPI document before the test sees it. */
  const call = async <T = Record<string, unknown>>(method: string, path: string, options?: Parameters<typeof request>[3]) => {
    const response = await request<T>(stack.baseUrl, method, path, options);
    validator.validate(method, path, response);
    if (method === 'POST' && path === '/v1/auth/register' && response.status === 201) {
      stack.own.add((response.body as { user: { id: string } }).user.id);
    }
    return response;
  };

  async function login(email: string, password: string): Promise<string> {
    const response = await call<{ accessToken: string }>('POST', '/v1/auth/login', { body: { email, password } });
    if (response.status !== 200) throw new Error(`login of ${email} answered ${response.status}`);
    return response.body.accessToken;
  }

  /** Registers, logs in and waits for the onboarding saga to have made (and for customers, credited) the wallet. */
  async function signUp(options: { role?: 'customer' | 'merchant'; currency?: string; name?: string } = {}): Promise<Actor> {
    const email = uniqueEmail(options.role ?? 'customer');
    const registered = await call<{ user: Actor['user'] }>('POST', '/v1/auth/register', {
      body: { email, password: 'correct horse battery', name: options.name ?? 'Test User', ...options },
    });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`);
    const token = await login(email, 'correct horse battery');
    const wallet = await waitFor(
      async () => {
        const me = await call<{ wallets: WalletBody[] }>('GET', '/v1/me', { token });
        const [first] = me.body.wallets;
        return first && (options.role === 'merchant' || first.balance > 0) ? first : undefined;
      },
      { what: 'the onboarding saga to create the wallet' },
    );
    return { email, token, user: registered.body.user, wallet };
  }

  /** An admin made the way operators make one (straight in the database), logged in. */
  async function admin(): Promise<string> {
    const email = uniqueEmail('admin');
    await insertUser(stack.db, { email, passwordHash: await hashPassword('admin-password'), name: 'Admin', phone: null, role: 'admin', currency: 'USD' });
    return login(email, 'admin-password');
  }

  async function balanceOf(token: string, walletId: string): Promise<number> {
    return (await call<WalletBody>('GET', `/v1/wallets/${walletId}`, { token })).body.balance;
  }

  /**
   * The reconciliation check a test ends with: waits until this stack's own sagas are final,
   * then asserts the ledger's global invariants through the admin API. Not `ok` nor
   * `stuckSagas`: those also count other files' sagas in flight and earlier runs' leftovers.
   */
  async function expectReconciled(adminToken: string): Promise<void> {
    await stack.own.settle(stack.db);
    const report = await call<ReconciliationReport>('GET', '/v1/admin/reconciliation', { token: adminToken });
    expect(report.status).toBe(200);
    expectLedgerInvariants(report.body);
  }

  return { call, login, signUp, admin, balanceOf, expectReconciled };
}

/** Asserts the contract's error shape and code; returns the error for more checks. */
export function expectError(response: TestResponse<unknown>, status: number, code: string): ErrorBody['error'] {
  expect({ status: response.status, code: (response.body as ErrorBody | null)?.error?.code }).toEqual({ status, code });
  const { error } = response.body as ErrorBody;
  expect(typeof error.message).toBe('string');
  expect(error.requestId).toBe(response.headers.get('x-request-id'));
  expect(JSON.stringify(response.body)).not.toMatch(/ at .*\.ts:\d+|argon2|password_?hash/i);
  return error;
}
