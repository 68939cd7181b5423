import Router from '@koa/router';
import { z } from 'zod';
import { newId } from '../../domain/ids';
import { MONEY_SAGAS } from '../../domain/money-sagas';
import { MAX_REFUND_REASON_LENGTH } from '../../domain/refunds';
import { refundLaunch } from '../../infra/sagas';
import type { PaymentRow, RefundRow } from '../../infra/tables';
import { findRefund, insertPendingRefund, toRefund, type RefundRefusal } from '../../store/refund-records';
import { listSteps, listStepsOf } from '../../store/saga-timeline';
import type { AppDependencies } from '../dependencies';
import { HttpError, notFound } from '../errors';
import { createOnce, readIdempotencyKey, requestHash } from '../idempotency';
import { authenticate } from '../middleware/authenticate';
import { IDEMPOTENT_REPLAYED_HEADER, locationHeader } from '../openapi/headers';
import type { ApiDocs } from '../openapi/registry';
import { paginate } from '../pagination';
import { rateLimitsOf } from '../rate-limits';
import { answerSaga, faultHeaderDoc, faultStepOf, NOT_STARTED_NOTE } from '../saga-routes';
import { listOf, refundSchema } from '../schemas';
import type { User } from '../users';
import { amountSchema, listQuerySchema, parseInput, plainText } from '../validation';

/** What a refusal to create a refund says. */
const REFUSALS: Record<RefundRefusal, string> = {
  payment_not_refundable: 'Only a succeeded payment of a payer whose account is open can be refunded.',
  refund_exceeds_payment: 'The refunds of a payment cannot exceed what it paid.',
};

/** Who may read a payment's refunds: its payer, its merchant, an admin. */
function mayRead(user: User, row: Pick<PaymentRow, 'payer_id' | 'merchant_id'>): boolean {
  return user.role === 'admin' || row.payer_id === user.id || row.merchant_id === user.id;
}

/** Routes of refunds: `/v1/payments/:id/refunds` and `/v1/refunds/:id`. */
export function refundRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config, temporal } = dependencies;
  const router = new Router({ sensitive: true });
  const auth = authenticate(db, config.jwt);
  const createSchema = z.object({
    amount: amountSchema(config.money.maxAmount).optional(),
    reason: plainText().max(MAX_REFUND_REASON_LENGTH, `must be at most ${MAX_REFUND_REASON_LENGTH} characters`).nullish(),
  });
  const sagaSettings = { paymentsTaskQueue: config.temporal.paymentsTaskQueue, notificationsTaskQueue: config.temporal.notificationsTaskQueue };

  /** The payment a refund route names, when the caller may see it; 404 otherwise. */
  async function visiblePayment(user: User, paymentId: string): Promise<PaymentRow> {
    const row = await db('payments').where({ id: paymentId }).first();
    if (!row || !mayRead(user, row)) throw notFound();
    return row;
  }

  docs.add({
    method: 'post',
    path: '/v1/payments/:id/refunds',
    summary: 'Refund a succeeded payment, fully or in part (its merchant or an admin): runs the refund saga (validate → debit merchant → credit payer → ledger → notify)',
    tag: 'Refunds',
    auth: true,
    body: createSchema,
    headers: {
      'Idempotency-Key': '1–255 printable characters; the same key and body return the same refund',
      Prefer: '`respond-async` answers 202 at once',
      'X-Saga-Fault': faultHeaderDoc('refund'),
    },
    responses: {
      201: { description: 'final: succeeded, or failed with failure.code', schema: refundSchema, headers: { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED_HEADER } },
      202: { description: `not final within PAYMENT_SYNC_WAIT_MS (or Prefer: respond-async); ${NOT_STARTED_NOTE}`, schema: refundSchema, headers: { Location: locationHeader('/v1/refunds'), 'Idempotent-Replayed': IDEMPOTENT_REPLAYED_HEADER } },
    },
    errors: [400, 403, 404, 413, 415, 422, 429],
  });
  router.post('/v1/payments/:id/refunds', auth, rateLimitsOf(dependencies).moneyPerUser, async (ctx) => {
    const user = ctx.state.user as User;
    const payment = await visiblePayment(user, String(ctx.params.id));
    if (user.role !== 'admin' && payment.merchant_id !== user.id) throw new HttpError(403, 'forbidden', 'Only the payment’s merchant or an admin can refund it.');
    const input = parseInput(createSchema, ctx.request.body);
    const key = readIdempotencyKey(ctx.get('Idempotency-Key') || undefined);
    const faultStep = faultStepOf(ctx, 'refund', config.sagaFaultsEnabled);

    const refundId = newId(MONEY_SAGAS.refund.idPrefix);
    const { resource: storedId, replayed } = await createOnce(
      db,
      { userId: user.id, key, hash: requestHash('POST', `/v1/payments/${payment.id}/refunds`, { body: ctx.request.body, faultStep }), resourceType: 'refund' },
      refundId,
      async (trx) => {
        const refusal = await insertPendingRefund(trx, { id: refundId, paymentId: payment.id, amount: input.amount, reason: input.reason ?? null, faultStep });
        if (refusal) throw new HttpError(422, refusal, REFUSALS[refusal]);
        return refundId;
      },
      (existingId) => Promise.resolve(existingId),
    );
    const stored = await findRefund(db, storedId);
    if (!stored) throw new Error(`refund ${storedId} of an idempotency key is missing`);
    await answerSaga(ctx, {
      stored,
      replayed,
      read: () => findRefund(db, stored.id),
      temporal,
      report: dependencies.report,
      launch: () =>
        refundLaunch(sagaSettings, {
          refundId: stored.id,
          paymentId: payment.id,
          payerId: payment.payer_id,
          merchantId: payment.merchant_id,
          amount: stored.amount,
          feeRefunded: stored.feeRefunded,
          currency: stored.currency,
        }),
      waitMs: config.paymentSyncWaitMs,
      location: `/v1/refunds/${stored.id}`,
    });
  });

  docs.add({
    method: 'get',
    path: '/v1/refunds/:id',
    summary: 'A refund with its step timeline (the payment’s payer, its merchant or an admin)',
    tag: 'Refunds',
    auth: true,
    responses: { 200: { description: 'the refund', schema: refundSchema } },
    errors: [404],
  });
  router.get('/v1/refunds/:id', auth, async (ctx) => {
    const user = ctx.state.user as User;
    const row = await db('refunds').where({ id: String(ctx.params.id) }).first();
    if (!row || !mayRead(user, row)) throw notFound();
    ctx.body = toRefund(row, await listSteps(db, row.id));
  });

  docs.add({
    method: 'get',
    path: '/v1/payments/:id/refunds',
    summary: 'The refunds of a payment, newest first (its payer, its merchant or an admin)',
    tag: 'Refunds',
    auth: true,
    query: listQuerySchema,
    responses: { 200: { description: 'a page of refunds', schema: listOf(refundSchema) } },
    errors: [400, 404],
  });
  router.get('/v1/payments/:id/refunds', auth, async (ctx) => {
    const user = ctx.state.user as User;
    const payment = await visiblePayment(user, String(ctx.params.id));
    const query = parseInput(listQuerySchema, ctx.query);
    const page = await paginate<RefundRow, RefundRow>(db('refunds').where({ payment_id: payment.id }), query, (row) => row);
    const steps = await listStepsOf(
      db,
      page.data.map((row) => row.id),
    );
    ctx.body = { ...page, data: page.data.map((row) => toRefund(row, steps.get(row.id) ?? [])) };
  });

  return router;
}
