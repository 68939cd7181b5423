import Router from '@koa/router';
import { z } from 'zod';
import { listSteps, listStepsOf } from '../../store/saga-timeline';
import { findTransfer, insertPendingTransfer, toTransfer } from '../../store/transfer-records';
import { findWalletByUser } from '../../store/wallets';
import { newId } from '../../domain/ids';
import { MONEY_SAGAS } from '../../domain/money-sagas';
import { MAX_NOTE_LENGTH } from '../../domain/transfers';
import type { TransferRow } from '../../infra/tables';
import type { AppDependencies } from '../dependencies';
import { answerSaga, faultHeaderDoc, faultStepOf, NOT_STARTED_NOTE } from '../saga-routes';
import { HttpError, notFound } from '../errors';
import { createOnce, hashedBody, readIdempotencyKey, requestHash } from '../idempotency';
import { authenticate } from '../middleware/authenticate';
import { IDEMPOTENT_REPLAYED_HEADER, locationHeader } from '../openapi/headers';
import { documentedWith, exactlyOneOf, type ApiDocs } from '../openapi/registry';
import { paginate } from '../pagination';
import { rateLimitsOf } from '../rate-limits';
import { transferLaunch } from '../../infra/sagas';
import { asRecipient, findUserByAlias, handleSchema } from '../recipients';
import { listOf, transferSchema } from '../schemas';
import { emailSchema } from './auth';
import { findUserByEmail, findUserById, type StoredUser, type User } from '../users';
import { amountSchema, currencySchema, listQuerySchema, parseInput, plainText } from '../validation';

/** The request body of `POST /v1/transfers`: the recipient by exactly one of `toUserId`, `toEmail` and `to` (an @handle). */
function createTransferSchema(maxAmount: number, currencies: readonly string[]) {
  return z
    .object({
      toUserId: z.string({ message: 'must be a user id' }).min(1, 'must be a user id').max(64).optional(),
      toEmail: emailSchema.optional(),
      to: handleSchema.optional().describe('the recipient’s @handle'),
      amount: amountSchema(maxAmount),
      currency: currencySchema(currencies),
      note: plainText().max(MAX_NOTE_LENGTH, `must be at most ${MAX_NOTE_LENGTH} characters`).nullish(),
    })
    .superRefine((body, context) => {
      const named = [body.toUserId, body.toEmail, body.to].filter((recipient) => recipient !== undefined);
      if (named.length !== 1) {
        context.addIssue({ code: 'custom', path: ['toUserId'], message: 'give exactly one of toUserId, toEmail and to' });
      }
    });
}

/** Routes of `/v1/transfers`: money between people, through the transfer saga. */
export function transferRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config, temporal } = dependencies;
  const router = new Router({ sensitive: true });
  const auth = authenticate(db, config.jwt);
  const createSchema = documentedWith(createTransferSchema(config.money.maxAmount, config.money.currencies), exactlyOneOf(['toUserId', 'toEmail', 'to']));
  const listSchema = listQuerySchema.extend({
    role: z.enum(['sender', 'recipient'], { message: 'must be sender or recipient' }).optional(),
    status: z.enum(['pending', 'processing', 'succeeded', 'failed'], { message: 'must be pending, processing, succeeded or failed' }).optional(),
  });
  const sagaSettings = { paymentsTaskQueue: config.temporal.paymentsTaskQueue, notificationsTaskQueue: config.temporal.notificationsTaskQueue };

  /** The recipient the body names; 404 not_found, as `/v1/recipients` answers, when nobody, an admin or a closed account has that id, e-mail or handle. */
  async function recipientOf(input: { toUserId?: string | undefined; toEmail?: string | undefined; to?: string | undefined }): Promise<StoredUser> {
    const recipient = asRecipient(
      input.toUserId !== undefined
        ? await findUserById(db, input.toUserId)
        : input.toEmail !== undefined
          ? await findUserByEmail(db, input.toEmail)
          : input.to !== undefined
            ? await findUserByAlias(db, input.to)
            : null,
    );
    if (!recipient) throw notFound();
    return recipient;
  }

  docs.add({
    method: 'post',
    path: '/v1/transfers',
    summary: 'Send money to another person: runs the transfer saga (validate → debit → credit → ledger → notify), no fee',
    tag: 'Transfers',
    auth: true,
    body: createSchema,
    headers: {
      'Idempotency-Key': '1–255 printable characters; the same key and body return the same transfer',
      Prefer: '`respond-async` answers 202 at once',
      'X-Saga-Fault': faultHeaderDoc('transfer'),
    },
    responses: {
      201: { description: 'final: succeeded, or failed with failure.code', schema: transferSchema, headers: { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED_HEADER } },
      202: { description: `not final within PAYMENT_SYNC_WAIT_MS (or Prefer: respond-async); ${NOT_STARTED_NOTE}`, schema: transferSchema, headers: { Location: locationHeader('/v1/transfers'), 'Idempotent-Replayed': IDEMPOTENT_REPLAYED_HEADER } },
    },
    errors: [400, 404, 413, 415, 422, 429],
  });
  const limits = rateLimitsOf(dependencies);
  // The recipient check tells what /v1/recipients tells (nobody, a person or a merchant), so it counts in its limits.
  router.post('/v1/transfers', auth, limits.moneyPerUser, limits.recipientsPerIp, limits.recipientsPerUser, async (ctx) => {
    const user = ctx.state.user as User;
    const input = parseInput(createSchema, ctx.request.body);
    const key = readIdempotencyKey(ctx.get('Idempotency-Key') || undefined);
    const faultStep = faultStepOf(ctx, 'transfer', config.sagaFaultsEnabled);
    // The recipient first, then the sender's own wallet: a sender without one in the currency learns no more than /v1/recipients says.
    const recipient = await recipientOf(input);
    if (recipient.id === user.id) throw new HttpError(422, 'self_payment', 'You cannot send money to yourself.');
    if (recipient.role === 'merchant') throw new HttpError(422, 'recipient_is_merchant', 'A merchant is paid with POST /v1/payments, not a transfer.');
    const source = await findWalletByUser(db, user.id, input.currency);
    if (!source) throw new HttpError(422, 'currency_mismatch', `You have no ${input.currency} wallet.`);
    const target = await findWalletByUser(db, recipient.id, input.currency);
    if (!target) throw new HttpError(422, 'currency_mismatch', `The recipient has no ${input.currency} wallet.`);

    const transferId = newId(MONEY_SAGAS.transfer.idPrefix);
    const { resource: storedId, replayed } = await createOnce(
      db,
      { userId: user.id, key, hash: requestHash('POST', '/v1/transfers', { body: hashedBody(ctx.request.body, { to: input.to }), faultStep }), resourceType: 'transfer' },
      transferId,
      async (trx) => {
        await insertPendingTransfer(trx, {
          id: transferId,
          senderId: user.id,
          fromWalletId: source.id,
          recipientId: recipient.id,
          toWalletId: target.id,
          amount: input.amount,
          currency: input.currency,
          note: input.note ?? null,
          faultStep,
        });
        return transferId;
      },
      (existingId) => Promise.resolve(existingId),
    );
    const stored = await findTransfer(db, storedId);
    if (!stored) throw new Error(`transfer ${storedId} of an idempotency key is missing`);
    await answerSaga(ctx, {
      stored,
      replayed,
      read: () => findTransfer(db, stored.id),
      temporal,
      report: dependencies.report,
      launch: () =>
        transferLaunch(sagaSettings, {
          transferId: stored.id,
          senderId: user.id,
          recipientId: recipient.id,
          recipientName: recipient.name,
          amount: stored.amount,
          currency: stored.currency,
        }),
      waitMs: config.paymentSyncWaitMs,
      location: `/v1/transfers/${stored.id}`,
    });
  });

  docs.add({
    method: 'get',
    path: '/v1/transfers/:id',
    summary: 'A transfer with its step timeline (sender, recipient or admin)',
    tag: 'Transfers',
    auth: true,
    responses: { 200: { description: 'the transfer', schema: transferSchema } },
    errors: [404],
  });
  router.get('/v1/transfers/:id', auth, async (ctx) => {
    const user = ctx.state.user as User;
    const row = await db('transfers').where({ id: String(ctx.params.id) }).first();
    const visible = row && (user.role === 'admin' || row.sender_id === user.id || row.recipient_id === user.id);
    if (!row || !visible) throw notFound();
    ctx.body = toTransfer(row, await listSteps(db, row.id));
  });

  docs.add({
    method: 'get',
    path: '/v1/transfers',
    summary: 'The caller’s transfers, sent or received, newest first',
    tag: 'Transfers',
    auth: true,
    query: listSchema,
    responses: { 200: { description: 'a page of transfers', schema: listOf(transferSchema) } },
    errors: [400],
  });
  router.get('/v1/transfers', auth, async (ctx) => {
    const user = ctx.state.user as User;
    const query = parseInput(listSchema, ctx.query);
    const rows = db('transfers').where((builder) => {
      if (query.role === 'sender') void builder.where({ sender_id: user.id });
      else if (query.role === 'recipient') void builder.where({ recipient_id: user.id });
      else void builder.where({ sender_id: user.id }).orWhere({ recipient_id: user.id });
    });
    if (query.status) void rows.andWhere({ status: query.status });
    const page = await paginate<TransferRow, TransferRow>(rows, query, (row) => row);
    const steps = await listStepsOf(
      db,
      page.data.map((row) => row.id),
    );
    ctx.body = { ...page, data: page.data.map((row) => toTransfer(row, steps.get(row.id) ?? [])) };
  });

  return router;
}
