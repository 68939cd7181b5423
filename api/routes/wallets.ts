import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { createTopup, findTopup } from '../../store/topups';
import { findWallet, openWallet, toWallet, type Wallet } from '../../store/wallets';
import { newId } from '../../domain/ids';
import type { AccountRow, EntryRow } from '../../infra/tables';
import { toSafeInteger } from '../../domain/money';
import type { AppDependencies } from '../dependencies';
import { IDEMPOTENT_REPLAYED_HEADER } from '../openapi/headers';
import type { ApiDocs } from '../openapi/registry';
import { listOf, topupSchema as topupResponseSchema, transactionSchema, walletSchema } from '../schemas';
import { HttpError, notFound } from '../errors';
import { createOnce, readIdempotencyKey, requestHash } from '../idempotency';
import { authenticate, requireRole } from '../middleware/authenticate';
import { paginate } from '../pagination';
import { rateLimitsOf } from '../rate-limits';
import type { User } from '../users';
import { amountSchema, currencySchema, listQuerySchema, parseInput } from '../validation';

/** Routes of `/v1/wallets/*`. */
export function walletRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config } = dependencies;
  const router = new Router({ sensitive: true });
  const auth = authenticate(db, config.jwt);
  const topupRequestSchema = z.object({
    amount: amountSchema(config.money.maxAmount),
    currency: currencySchema(config.money.currencies),
  });

  const openRequestSchema = z.object({ currency: currencySchema(config.money.currencies) });

  docs.add({
    method: 'get',
    path: '/v1/wallets',
    summary: 'The caller’s wallets, one per currency, newest first',
    tag: 'Wallets',
    auth: true,
    query: listQuerySchema,
    responses: { 200: { description: 'a page of wallets', schema: listOf(walletSchema) } },
    errors: [400],
  });
  router.get('/v1/wallets', auth, async (ctx) => {
    const user = ctx.state.user as User;
    const page = parseInput(listQuerySchema, ctx.query);
    ctx.body = await paginate<AccountRow, Wallet>(db('accounts').where({ kind: 'wallet', user_id: user.id }), page, toWallet);
  });

  docs.add({
    method: 'post',
    path: '/v1/wallets',
    summary: 'Open a wallet in another configured currency (customers and merchants; idempotent): balance 0, no promotional credit',
    tag: 'Wallets',
    auth: true,
    body: openRequestSchema,
    headers: { 'Idempotency-Key': '1–255 printable characters; the same key and body return the same wallet' },
    responses: { 201: { description: 'the new wallet', schema: walletSchema, headers: { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED_HEADER } } },
    errors: [400, 403, 409, 413, 415, 422],
  });
  router.post('/v1/wallets', auth, requireRole('customer', 'merchant'), async (ctx) => {
    const user = ctx.state.user as User;
    const input = parseInput(openRequestSchema, ctx.request.body);
    const key = readIdempotencyKey(ctx.get('Idempotency-Key') || undefined);
    const walletId = newId('wal');
    const { resource, replayed } = await createOnce(
      db,
      { userId: user.id, key, hash: requestHash('POST', '/v1/wallets', ctx.request.body), resourceType: 'wallet' },
      walletId,
      async (trx) => {
        // Thrown inside the transaction, so the key row rolls back with it: a later retry with this key is judged afresh.
        const opened = await openWallet(trx, { id: walletId, userId: user.id, currency: input.currency });
        if (!opened) throw new HttpError(409, 'wallet_exists', `You already have a ${input.currency} wallet.`);
        return opened;
      },
      async (existingId) => {
        const existing = await findWallet(db, existingId);
        if (!existing) throw new Error(`wallet ${existingId} of an idempotency key is missing`);
        return existing;
      },
    );
    if (replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.status = 201;
    ctx.body = resource;
  });

  /** The wallet named in the path if the caller may see it; 404 otherwise (never reveal it exists). */
  async function visibleWallet(ctx: Context, options: { ownerOnly: boolean }): Promise<Wallet> {
    const user = ctx.state.user as User;
    const wallet = await findWallet(db, String((ctx.params as Record<string, string>).id));
    const allowed = wallet && (wallet.userId === user.id || (!options.ownerOnly && user.role === 'admin'));
    if (!wallet || !allowed) throw notFound('wallet_not_found');
    return wallet;
  }

  docs.add({
    method: 'get',
    path: '/v1/wallets/:id',
    summary: 'A wallet (owner or admin)',
    tag: 'Wallets',
    auth: true,
    responses: { 200: { description: 'the wallet', schema: walletSchema } },
    errors: [404],
  });
  router.get('/v1/wallets/:id', auth, async (ctx) => {
    ctx.body = await visibleWallet(ctx, { ownerOnly: false });
  });

  docs.add({
    method: 'get',
    path: '/v1/wallets/:id/transactions',
    summary: 'The wallet’s ledger entries, newest first',
    tag: 'Wallets',
    auth: true,
    query: listQuerySchema,
    responses: { 200: { description: 'a page of entries', schema: listOf(transactionSchema) } },
    errors: [400, 404],
  });
  router.get('/v1/wallets/:id/transactions', auth, async (ctx) => {
    const wallet = await visibleWallet(ctx, { ownerOnly: false });
    const page = parseInput(listQuerySchema, ctx.query);
    ctx.body = await paginate<EntryRow, unknown>(db('entries').where({ account_id: wallet.id }), page, (row) => ({
      id: row.id,
      walletId: wallet.id,
      amount: toSafeInteger(row.amount, 'amount'),
      balanceAfter: toSafeInteger(row.balance_after, 'balance_after'),
      type: row.type,
      referenceId: row.reference_id,
      createdAt: row.created_at.toISOString(),
    }));
  });

  docs.add({
    method: 'post',
    path: '/v1/wallets/:id/topups',
    summary: 'Top up from the simulated external funding source (owner only, idempotent)',
    tag: 'Wallets',
    auth: true,
    body: topupRequestSchema,
    headers: { 'Idempotency-Key': '1–255 printable characters; the same key and body return the same top-up' },
    responses: {
      201: { description: 'the top-up', schema: topupResponseSchema, headers: { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED_HEADER } },
    },
    errors: [400, 404, 413, 415, 422, 429],
  });
  router.post('/v1/wallets/:id/topups', auth, rateLimitsOf(dependencies).moneyPerUser, async (ctx) => {
    const user = ctx.state.user as User;
    const wallet = await visibleWallet(ctx, { ownerOnly: true });
    const input = parseInput(topupRequestSchema, ctx.request.body);
    const key = readIdempotencyKey(ctx.get('Idempotency-Key') || undefined);
    if (input.currency !== wallet.currency) {
      throw new HttpError(422, 'currency_mismatch', `This wallet holds ${wallet.currency}, not ${input.currency}.`);
    }
    if (wallet.status === 'frozen') throw new HttpError(422, 'wallet_frozen', 'The wallet is frozen.');
    const topupId = newId('top');
    const { resource, replayed } = await createOnce(
      db,
      { userId: user.id, key, hash: requestHash('POST', ctx.path, ctx.request.body), resourceType: 'topup' },
      topupId,
      (trx) => createTopup(db, trx, { topupId, walletId: wallet.id, userId: user.id, amount: input.amount, currency: input.currency }),
      async (existingId) => {
        const existing = await findTopup(db, existingId);
        if (!existing) throw new Error(`top-up ${existingId} of an idempotency key is missing`);
        return existing;
      },
    );
    if (replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.status = 201;
    ctx.body = resource;
  });

  return router;
}
