import Router from '@koa/router';
import { reconcile } from '../../store/reconciliation';
import { setWalletStatus } from '../../store/wallets';
import { DomainError, ErrorType } from '../../domain/errors';
import type { AppDependencies } from '../dependencies';
import type { ApiDocs } from '../openapi/registry';
import { reconciliationSchema, walletSchema } from '../schemas';
import { HttpError, notFound } from '../errors';
import { authenticate, requireRole } from '../middleware/authenticate';
import type { User } from '../users';

/** Routes of `/v1/admin/*`: admins only. */
export function adminRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config } = dependencies;
  const router = new Router();
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

  return router;
}
