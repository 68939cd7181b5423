import Router from '@koa/router';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from 'zod';
import { findPayment } from '../../store/payment-records';
import { reconcile } from '../../store/reconciliation';
import { addBlocklistEntry, openReviewOf, removeBlocklistEntry, toBlocklistEntry, type BlocklistEntry } from '../../store/risk';
import type { RiskBlocklistRow } from '../../infra/tables';
import { BLOCKLIST_KINDS, REVIEW_PAYMENT_UPDATE, type ReviewPaymentInput } from '../../domain/risk';
import { paymentWorkflowId } from '../../domain/workflow-ids';
import { setWalletStatus } from '../../store/wallets';
import { DomainError, ErrorType } from '../../domain/errors';
import type { AppDependencies } from '../dependencies';
import { documentedAs, NOT_ONLY_SPACE, type ApiDocs } from '../openapi/registry';
import { blocklistEntrySchema, listOf, paymentSchema, reconciliationSchema, walletSchema } from '../schemas';
import { HttpError, notFound } from '../errors';
import { paginate } from '../pagination';
import { listQuerySchema, parseInput, plainText } from '../validation';
import { authenticate, requireRole } from '../middleware/authenticate';
import type { User } from '../users';

/** Routes of `/v1/admin/*`: admins only. */
export function adminRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config } = dependencies;
  const router = new Router({ sensitive: true });
  const adminOnly = [authenticate(db, config.jwt), requireRole('admin')] as const;

  for (const [action, status] of [
    ['freeze', 'frozen'],
    ['unfreeze', 'active'],
  ] as const) {
    docs.add({
      method: 'post',
      path: `/v1/admin/wallets/:id/${action}`,
      summary: `${action === 'freeze' ? 'Freeze' : 'Unfreeze'} a wallet (admin)`,
      tag: 'Administration',
      auth: true,
      responses: { 200: { description: `the wallet, now ${status}`, schema: walletSchema } },
      errors: action === 'unfreeze' ? [403, 404, 409] : [403, 404],
    });
    router.post(`/v1/admin/wallets/:id/${action}`, ...adminOnly, async (ctx) => {
      try {
        ctx.body = await setWalletStatus(db, String(ctx.params.id), status, (ctx.state.user as User).id);
      } catch (error) {
        if (error instanceof DomainError && error.type === ErrorType.AccountNotFound) throw notFound('wallet_not_found');
        if (error instanceof DomainError && error.type === ErrorType.AccountClosed) {
          throw new HttpError(409, 'account_closed', 'This wallet belongs to a closed account and stays frozen.');
        }
        throw error;
      }
    });
  }

  docs.add({
    method: 'get',
    path: '/v1/admin/reconciliation',
    summary: 'Check every ledger invariant (admin)',
    tag: 'Administration',
    auth: true,
    responses: { 200: { description: 'the report; ok is true only when every check passes', schema: reconciliationSchema } },
    errors: [403],
  });
  router.get('/v1/admin/reconciliation', ...adminOnly, async (ctx) => {
    ctx.body = await reconcile(db, { stuckAfterMs: config.stuckAfterMs });
  });

  reviewRoutes(router, dependencies, docs);
  blocklistRoutes(router, dependencies, docs);
  return router;
}

/** 409 review_closed: the payment is not waiting for a review (never was, already decided, timed out). */
function reviewClosed(): HttpError {
  return new HttpError(409, 'review_closed', 'This payment is not waiting for a review: it was already decided or timed out.');
}

const reviewSchema = z.object({ decision: z.enum(['approve', 'decline'], { message: 'must be approve or decline' }) });

/**
 * `POST /v1/admin/payments/:id/review`: delivers an admin's decision to the waiting saga as the
 * `reviewPayment` Update. The workflow is the judge: its validator refuses a second decision or one
 * after the timeout, so of two admins racing exactly one wins and the other gets 409.
 */
function reviewRoutes(router: Router, dependencies: AppDependencies, docs: ApiDocs): void {
  const { db, config, temporal } = dependencies;
  docs.add({
    method: 'post',
    path: '/v1/admin/payments/:id/review',
    summary: 'Approve or decline a payment in risk review (admin); the first decision wins',
    tag: 'Administration',
    auth: true,
    body: reviewSchema,
    responses: { 200: { description: 'the payment once the decision is recorded: approve lets it go on to the debit, decline fails it risk_declined', schema: paymentSchema } },
    errors: [400, 403, 404, 409],
  });
  router.post('/v1/admin/payments/:id/review', authenticate(db, config.jwt), requireRole('admin'), async (ctx) => {
    const admin = ctx.state.user as User;
    const { decision } = parseInput(reviewSchema, ctx.request.body);
    const paymentId = String(ctx.params.id);
    if (!(await db('payments').select('id').where({ id: paymentId }).first())) throw notFound();
    if (!(await openReviewOf(db, paymentId))) throw reviewClosed();
    const input: ReviewPaymentInput = { decision, adminId: admin.id };
    try {
      await temporal.workflow.getHandle(paymentWorkflowId(paymentId)).executeUpdate(REVIEW_PAYMENT_UPDATE, { args: [input] });
    } catch (error) {
      // Refused by the validator (decided, timed out) or the workflow is closed.
      if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) throw reviewClosed();
      throw error;
    }
    ctx.body = await findPayment(db, paymentId);
  });
}

const blocklistCreateSchema = z
  .object({
    kind: z.enum(BLOCKLIST_KINDS, { message: `must be one of ${BLOCKLIST_KINDS.join(', ')}` }),
    value: documentedAs(z.string({ message: 'must be a string' }).trim().min(1, 'must not be empty').max(254, 'must be at most 254 characters'), {
      type: 'string',
      minLength: 1,
      maxLength: 254,
      pattern: NOT_ONLY_SPACE,
      description: 'kind email: an address (something@something, no spaces)',
    }),
    reason: plainText().max(200, 'must be at most 200 characters').nullish(),
  })
  .refine((entry) => entry.kind !== 'email' || /^[^\s@]+@[^\s@]+$/.test(entry.value), { message: 'must be an e-mail address', path: ['value'] });

/** `/v1/admin/blocklist`: the users, e-mail addresses and merchants whose payments and transfers the risk check declines. */
function blocklistRoutes(router: Router, dependencies: AppDependencies, docs: ApiDocs): void {
  const { db, config } = dependencies;
  const adminOnly = [authenticate(db, config.jwt), requireRole('admin')] as const;
  docs.add({
    method: 'post',
    path: '/v1/admin/blocklist',
    summary: 'Blocklist a user, an e-mail address or a merchant (admin); their payments and transfers are declined by the risk check',
    tag: 'Administration',
    auth: true,
    body: blocklistCreateSchema,
    responses: {
      201: { description: 'the new entry', schema: blocklistEntrySchema },
      200: { description: 'the entry already there for this kind and value', schema: blocklistEntrySchema },
    },
    errors: [400, 403],
  });
  router.post('/v1/admin/blocklist', ...adminOnly, async (ctx) => {
    const input = parseInput(blocklistCreateSchema, ctx.request.body);
    const { entry, created } = await addBlocklistEntry(db, { kind: input.kind, value: input.value, reason: input.reason ?? null, adminId: (ctx.state.user as User).id });
    ctx.status = created ? 201 : 200;
    ctx.body = entry;
  });

  docs.add({
    method: 'get',
    path: '/v1/admin/blocklist',
    summary: 'The blocklist, newest first (admin)',
    tag: 'Administration',
    auth: true,
    query: listQuerySchema,
    responses: { 200: { description: 'a page of entries', schema: listOf(blocklistEntrySchema) } },
    errors: [400, 403],
  });
  router.get('/v1/admin/blocklist', ...adminOnly, async (ctx) => {
    const query = parseInput(listQuerySchema, ctx.query);
    ctx.body = await paginate<RiskBlocklistRow, BlocklistEntry>(db('risk_blocklist'), query, toBlocklistEntry);
  });

  docs.add({
    method: 'delete',
    path: '/v1/admin/blocklist/:id',
    summary: 'Remove a blocklist entry (admin)',
    tag: 'Administration',
    auth: true,
    responses: { 204: { description: 'removed' } },
    errors: [403, 404],
  });
  router.delete('/v1/admin/blocklist/:id', ...adminOnly, async (ctx) => {
    if (!(await removeBlocklistEntry(db, String(ctx.params.id), (ctx.state.user as User).id))) throw notFound();
    ctx.status = 204;
  });
}
