import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { createTopup, findTopup } from '../../activities/topups';
import { findWallet, type Wallet } from '../../activities/wallets';
import { newId } from '../../domain/ids';
import type { EntryRow } from '../../infra/tables';
import { toSafeInteger } from '../../domain/money';
import type { AppDependencies } from '../dependencies';
import { HttpError, notFound } from '../errors';
import { createOnce, readIdempotencyKey, requestHash } from '../idempotency';
import { authenticate } from '../middleware/authenticate';
import { paginate } from '../pagination';
import type { User } from '../users';
import { amountSchema, currencySchema, listQuerySchema, parseInput } from '../validation';

/** Routes of `/v1/wallets/*`. */
export function walletRoutes(dependencies: AppDependencies): Router {
  const { db, config } = dependencies;
  const router = new Router();
  const auth = authenticate(db, config.jwt);
  const topupSchema = z.object({
    amount: amountSchema(config.money.maxAmount),
    currency: currencySchema(config.money.currencies),
  });

  /** The wallet named in the path if the caller may see it; 404 otherwise (never reveal it exists). */
  async function visibleWallet(ctx: Context, options: { ownerOnly: boolean }): Promise<Wallet> {
    const user = ctx.state.user as User;
    const wallet = await findWallet(db, String((ctx.params as Record<string, string>).id));
    const allowed = wallet && (wallet.userId === user.id || (!options.ownerOnly && user.role === 'admin'));
    if (!wallet || !allowed) throw notFound('wallet_not_found');
    return wallet;
  }

  router.get('/v1/wallets/:id', auth, async (ctx) => {
    ctx.body = await visibleWallet(ctx, { ownerOnly: false });
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

  router.post('/v1/wallets/:id/topups', auth, async (ctx) => {
    const user = ctx.state.user as User;
    const wallet = await visibleWallet(ctx, { ownerOnly: true });
    const input = parseInput(topupSchema, ctx.request.body);
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
