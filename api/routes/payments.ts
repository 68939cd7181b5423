import Router from '@koa/router';
import { z } from 'zod';
import { findPayment, insertPendingPayment, refundedAmounts, toPayment } from '../../store/payment-records';
import { listSteps, listStepsOf } from '../../store/saga-timeline';
import { findWallet, findWalletByUser, type Wallet } from '../../store/wallets';
import { newId } from '../../domain/ids';
import { MONEY_SAGAS } from '../../domain/money-sagas';
import { feeRoundHalfUp } from '../../domain/money';
import { PAYMENT_STATUSES } from '../../domain/payments';
import type { PaymentRow } from '../../infra/tables';
import type { AppDependencies } from '../dependencies';
import { answerSaga, faultHeaderDoc, faultStepOf, NOT_STARTED_NOTE } from '../saga-routes';
import { IDEMPOTENT_REPLAYED_HEADER, locationHeader } from '../openapi/headers';
import { documentedWith, exactlyOneOf, type ApiDocs } from '../openapi/registry';
import { asRecipient, findUserByAlias, handleSchema } from '../recipients';
import { listOf, paymentSchema } from '../schemas';
import { HttpError, notFound } from '../errors';
import { createOnce, hashedBody, readIdempotencyKey, requestHash } from '../idempotency';
import { authenticate } from '../middleware/authenticate';
import { paginate } from '../pagination';
import { rateLimitsOf } from '../rate-limits';
import { paymentLaunch } from '../../infra/sagas';
import { findUserById, type User } from '../users';
import { amountSchema, currencySchema, listQuerySchema, parseInput, plainText } from '../validation';

/** Routes of `/v1/payments`. */
export function paymentRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config, temporal } = dependencies;
  const router = new Router({ sensitive: true });
  const auth = authenticate(db, config.jwt);
  const createSchema = z
    .object({
      merchantId: z.string({ message: 'must be a merchant id' }).min(1, 'must be a merchant id').max(64).optional(),
      merchant: handleSchema.optional().describe('the merchant’s @handle, instead of merchantId'),
      amount: amountSchema(config.money.maxAmount),
      currency: currencySchema(config.money.currencies),
      description: plainText().max(200, 'must be at most 200 characters').nullish(),
      sourceWalletId: z.string({ message: 'must be a wallet id' }).min(1).max(64).optional(),
    })
    .superRefine((body, context) => {
      if ((body.merchantId === undefined) === (body.merchant === undefined)) {
        context.addIssue({ code: 'custom', path: ['merchantId'], message: 'give exactly one of merchantId and merchant' });
      }
    });
  documentedWith(createSchema, exactlyOneOf(['merchantId', 'merchant']));
  const listSchema = listQuerySchema.extend({
    role: z.enum(['payer', 'merchant'], { message: 'must be payer or merchant' }).optional(),
    status: z.enum(PAYMENT_STATUSES, { message: `must be ${PAYMENT_STATUSES.join(', ')}` }).optional(),
  });
  const sagaSettings = { paymentsTaskQueue: config.temporal.paymentsTaskQueue, notificationsTaskQueue: config.temporal.notificationsTaskQueue };

  /** The payer's wallet to pay from: the one named, or their wallet in the currency. */
  async function sourceWalletOf(user: User, currency: string, sourceWalletId: string | undefined): Promise<Wallet> {
    if (sourceWalletId !== undefined) {
      const wallet = await findWallet(db, sourceWalletId);
      if (!wallet || wallet.userId !== user.id) throw notFound('wallet_not_found');
      if (wallet.currency !== currency) throw new HttpError(422, 'currency_mismatch', `Wallet ${wallet.id} holds ${wallet.currency}, not ${currency}.`);
      return wallet;
    }
    const wallet = await findWalletByUser(db, user.id, currency);
    if (!wallet) throw new HttpError(422, 'currency_mismatch', `You have no ${currency} wallet.`);
    return wallet;
  }

  docs.add({
    method: 'post',
    path: '/v1/payments',
    summary: 'Pay a merchant: runs the payment saga (validate → debit → credit minus fee → ledger → notify)',
    tag: 'Payments',
    auth: true,
    body: createSchema,
    headers: {
      'Idempotency-Key': '1–255 printable characters; the same key and body return the same payment',
      Prefer: '`respond-async` answers 202 at once',
      'X-Saga-Fault': faultHeaderDoc('payment'),
    },
    responses: {
      201: { description: 'final: succeeded, or failed with failure.code', schema: paymentSchema, headers: { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED_HEADER } },
      202: { description: `not final within PAYMENT_SYNC_WAIT_MS (or Prefer: respond-async), or in_review: waiting for an admin’s risk review; ${NOT_STARTED_NOTE}`, schema: paymentSchema, headers: { Location: locationHeader('/v1/payments'), 'Idempotent-Replayed': IDEMPOTENT_REPLAYED_HEADER } },
    },
    errors: [400, 404, 413, 415, 422, 429],
  });
  const limits = rateLimitsOf(dependencies);
  // The merchant check tells whether an id or handle is a merchant's, so it counts in the recipients limits.
  router.post('/v1/payments', auth, limits.moneyPerUser, limits.recipientsPerIp, limits.recipientsPerUser, async (ctx) => {
    const user = ctx.state.user as User;
    const input = parseInput(createSchema, ctx.request.body);
    const key = readIdempotencyKey(ctx.get('Idempotency-Key') || undefined);
    const faultStep = faultStepOf(ctx, 'payment', config.sagaFaultsEnabled);
    const named = input.merchantId !== undefined ? await findUserById(db, input.merchantId) : input.merchant !== undefined ? await findUserByAlias(db, input.merchant) : null;
    // A closed merchant, a person and an admin answer as nobody does, before any check of the payer's own wallets.
    const merchant = asRecipient(named);
    if (!merchant || merchant.role !== 'merchant') throw notFound('merchant_not_found');
    if (merchant.id === user.id) throw new HttpError(422, 'self_payment', 'You cannot pay yourself.');
    const source = await sourceWalletOf(user, input.currency, input.sourceWalletId);
    const merchantWallet = await findWalletByUser(db, merchant.id, input.currency);
    if (!merchantWallet) throw new HttpError(422, 'currency_mismatch', `The merchant does not accept ${input.currency}.`);
    const { fee, netAmount } = feeRoundHalfUp(input.amount, config.money.feeBps);

    const paymentId = newId(MONEY_SAGAS.payment.idPrefix);
    const { resource: storedId, replayed } = await createOnce(
      db,
      { userId: user.id, key, hash: requestHash('POST', '/v1/payments', { body: hashedBody(ctx.request.body, { merchant: input.merchant }), faultStep }), resourceType: 'payment' },
      paymentId,
      async (trx) => {
        await insertPendingPayment(trx, {
          id: paymentId,
          payerId: user.id,
          sourceWalletId: source.id,
          merchantId: merchant.id,
          merchantWalletId: merchantWallet.id,
          amount: input.amount,
          fee,
          netAmount,
          currency: input.currency,
          description: input.description ?? null,
          faultStep,
        });
        return paymentId;
      },
      (existingId) => Promise.resolve(existingId),
    );
    const stored = await findPayment(db, storedId);
    if (!stored) throw new Error(`payment ${storedId} of an idempotency key is missing`);
    await answerSaga(ctx, {
      stored,
      replayed,
      read: () => findPayment(db, stored.id),
      temporal,
      report: dependencies.report,
      launch: () =>
        paymentLaunch(sagaSettings, {
          paymentId: stored.id,
          payerId: user.id,
          merchantId: stored.merchantId,
          merchantName: merchant.name,
          amount: stored.amount,
          fee: stored.fee,
          netAmount: stored.netAmount,
          currency: stored.currency,
        }),
      waitMs: config.paymentSyncWaitMs,
      location: `/v1/payments/${stored.id}`,
    });
  });

  docs.add({
    method: 'get',
    path: '/v1/payments/:id',
    summary: 'A payment with its step timeline (payer, merchant or admin)',
    tag: 'Payments',
    auth: true,
    responses: { 200: { description: 'the payment', schema: paymentSchema } },
    errors: [404],
  });
  router.get('/v1/payments/:id', auth, async (ctx) => {
    const user = ctx.state.user as User;
    const row = await db('payments').where({ id: String(ctx.params.id) }).first();
    const visible = row && (user.role === 'admin' || row.payer_id === user.id || row.merchant_id === user.id);
    if (!row || !visible) throw notFound();
    ctx.body = toPayment(row, await listSteps(db, row.id), (await refundedAmounts(db, [row.id])).get(row.id) ?? 0);
  });

  docs.add({
    method: 'get',
    path: '/v1/payments',
    summary: 'The caller’s payments, as payer or merchant, newest first; an admin without `role` lists every payment (e.g. `?status=in_review`, the review queue)',
    tag: 'Payments',
    auth: true,
    query: listSchema,
    responses: { 200: { description: 'a page of payments', schema: listOf(paymentSchema) } },
    errors: [400],
  });
  router.get('/v1/payments', auth, async (ctx) => {
    const user = ctx.state.user as User;
    const query = parseInput(listSchema, ctx.query);
    // An admin may read any payment, so without a role the list is every payment: `?status=in_review` is the review queue.
    const everyPayment = user.role === 'admin' && query.role === undefined;
    const rows = db('payments').where((builder) => {
      if (query.role === 'payer') void builder.where({ payer_id: user.id });
      else if (query.role === 'merchant') void builder.where({ merchant_id: user.id });
      else if (!everyPayment) void builder.where({ payer_id: user.id }).orWhere({ merchant_id: user.id });
    });
    if (query.status) void rows.andWhere({ status: query.status });
    const page = await paginate<PaymentRow, PaymentRow>(rows, query, (row) => row);
    const steps = await listStepsOf(
      db,
      page.data.map((row) => row.id),
    );
    const refunded = await refundedAmounts(
      db,
      page.data.map((row) => row.id),
    );
    ctx.body = { ...page, data: page.data.map((row) => toPayment(row, steps.get(row.id) ?? [], refunded.get(row.id) ?? 0)) };
  });

  return router;
}
