import type { RouteDoc } from '../../api/openapi/registry';
import { buildRouters } from '../../api/app';
import type { AppDependencies } from '../../api/dependencies';
import type { Config } from '../../config';
import { actorsOf, type Actor } from '../support/actors';
import type { TestStack } from '../support/stack';

/** Every route the app serves, as the route factories documented it (the OpenAPI document is built from this list). */
export function documentedRoutes(config: Config): RouteDoc[] {
  return buildRouters({ config } as unknown as AppDependencies).docs.routes;
}

/** `METHOD /path/:param`, the key the security tables use for a route. */
export const routeKey = (route: Pick<RouteDoc, 'method' | 'path'>): string => `${route.method.toUpperCase()} ${route.path}`;

/** A route's path with its parameters filled in from `values` (by parameter name). */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/:(\w+)/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${path}`);
    return encodeURIComponent(value);
  });
}

/** Names that must never appear as a key of any answer (internal columns, credentials). */
export const INTERNAL_PROPERTIES = ['password', 'passwordHash', 'password_hash', 'tokenVersion', 'token_version', 'refreshToken', 'refresh_token', 'tokenHash', 'token_hash', 'secret'];

/** Every object key anywhere inside a JSON value. */
export function keysDeep(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysDeep(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      found.add(key);
      keysDeep(item, found);
    }
  }
  return found;
}

/**
 * The cast of the security tests, made through the public API: two customers (Ada pays and sends,
 * Bob receives), a merchant Ada paid (and who refunded part of it), a stranger of each role and an admin,
 * plus the objects between them: wallets, a payment, a refund, a transfer and a handle.
 */
export interface World {
  ada: Actor;
  bob: Actor;
  merchant: Actor;
  strangerCustomer: Actor;
  strangerMerchant: Actor;
  adminToken: string;
  paymentId: string;
  refundId: string;
  transferId: string;
  adaAlias: string;
}

/** Builds the world on a stack; every money step in it succeeds. */
export async function buildWorld(stack: TestStack): Promise<World> {
  const actors = actorsOf(stack);
  const [ada, bob, merchant, strangerCustomer, strangerMerchant, adminToken] = await Promise.all([
    actors.signUp({ name: 'Ada' }),
    actors.signUp({ name: 'Bob' }),
    actors.signUp({ role: 'merchant', name: 'Acme' }),
    actors.signUp({ name: 'Stranger' }),
    actors.signUp({ role: 'merchant', name: 'Other Shop' }),
    actors.admin(),
  ]);
  const payment = await actors.call<{ id: string; status: string }>('POST', '/v1/payments', {
    token: ada.token,
    body: { merchantId: merchant.user.id, amount: 1000, currency: 'USD' },
  });
  if (payment.status !== 201 || payment.body.status !== 'succeeded') throw new Error(`payment answered ${payment.status} ${JSON.stringify(payment.body)}`);
  const refund = await actors.call<{ id: string; status: string }>('POST', `/v1/payments/${payment.body.id}/refunds`, { token: merchant.token, body: { amount: 100 } });
  if (refund.status !== 201 || refund.body.status !== 'succeeded') throw new Error(`refund answered ${refund.status} ${JSON.stringify(refund.body)}`);
  const transfer = await actors.call<{ id: string; status: string }>('POST', '/v1/transfers', { token: ada.token, body: { toUserId: bob.user.id, amount: 100, currency: 'USD' } });
  if (transfer.status !== 201 || transfer.body.status !== 'succeeded') throw new Error(`transfer answered ${transfer.status} ${JSON.stringify(transfer.body)}`);
  const adaAlias = `@ada_${ada.user.id.slice(-10).toLowerCase()}`;
  const alias = await actors.call('POST', '/v1/me/aliases', { token: ada.token, body: { alias: adaAlias } });
  if (alias.status !== 201) throw new Error(`alias answered ${alias.status} ${JSON.stringify(alias.body)}`);
  return { ada, bob, merchant, strangerCustomer, strangerMerchant, adminToken, paymentId: payment.body.id, refundId: refund.body.id, transferId: transfer.body.id, adaAlias };
}
