import { z } from 'zod';
import { documentedAs, EMAIL_PATTERN } from './openapi/registry';

/** Response shapes of the contract (docs/api.md), as zod schemas: the OpenAPI document is built from them. */

const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_\\w+$`)).describe(`a ${prefix}_… id`);
const timestamp = z.iso.datetime({ offset: true }).describe('ISO 8601, UTC');
const minorUnits = z.number().int().describe('integer minor units (cents)');

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('snake_case, see docs/api.md'),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
      requestId: z.string(),
    }),
  })
  .meta({ id: 'Error' });

export const userSchema = z
  .object({
    id: id('usr'),
    // zod's pattern, not JSON Schema's `email` format: a label may end in a hyphen, which zod accepts at sign-up.
    email: documentedAs(z.email(), { type: 'string', pattern: `^${EMAIL_PATTERN}$` }),
    name: z.string(),
    phone: z.string().nullable(),
    role: z.enum(['customer', 'merchant', 'admin']),
    createdAt: timestamp,
  })
  .meta({ id: 'User' });

export const walletSchema = z
  .object({
    id: id('wal'),
    userId: id('usr'),
    currency: z.string().length(3),
    balance: minorUnits,
    held: minorUnits.describe('part of balance credited by a saga still in flight: not spendable until it finishes'),
    status: z.enum(['active', 'frozen']),
    createdAt: timestamp,
  })
  .meta({ id: 'Wallet' });

export const aliasSchema = z
  .object({ alias: z.string().regex(/^@[a-z0-9_]{3,30}$/).describe('the handle, lower-case, with its @'), createdAt: timestamp })
  .meta({ id: 'Alias' });

export const recipientSchema = z
  .object({ name: z.string(), kind: z.enum(['person', 'merchant']) })
  .meta({ id: 'Recipient', description: 'what a confirmation screen shows: no id, no e-mail' });

export const merchantListingSchema = z
  .object({ id: id('usr'), name: z.string(), handle: z.string().regex(/^@[a-z0-9_]{3,30}$/).nullable().describe('the merchant’s oldest handle, or null') })
  .meta({ id: 'MerchantListing' });

export const userWithWalletsSchema = z.object({ user: userSchema, wallets: z.array(walletSchema) }).meta({ id: 'UserWithWallets' });

export const transactionSchema = z
  .object({
    id: id('txn'),
    walletId: id('wal'),
    amount: minorUnits.describe('signed: + credit, − debit'),
    balanceAfter: minorUnits,
    type: z.enum(['promo_credit', 'topup', 'payment_debit', 'payment_credit', 'payment_refund', 'fee', 'transfer_in', 'transfer_out', 'reversal']),
    referenceId: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: 'Transaction' });

export const topupSchema = z
  .object({ id: id('top'), walletId: id('wal'), amount: minorUnits, currency: z.string().length(3), status: z.enum(['succeeded']), createdAt: timestamp })
  .meta({ id: 'Topup' });

export const sagaStepSchema = z
  .object({ name: z.string(), status: z.enum(['completed', 'failed', 'compensated']), at: timestamp })
  .meta({ id: 'SagaStep' });

const failureSchema = z
  .object({ code: z.string(), message: z.string(), rule: z.string().optional().describe('for risk_declined: the risk rule, review_declined or review_timeout') })
  .nullable();
const sagaStatus = z.enum(['pending', 'processing', 'succeeded', 'failed']);

export const paymentSchema = z
  .object({
    id: id('pay'),
    status: z.enum(['pending', 'processing', 'in_review', 'succeeded', 'failed']).describe('in_review: waiting for an admin’s risk review (not final)'),
    amount: minorUnits,
    fee: minorUnits,
    netAmount: minorUnits,
    refundedAmount: minorUnits.describe('what succeeded refunds gave back'),
    currency: z.string().length(3),
    sourceWalletId: id('wal'),
    merchantId: id('usr'),
    merchantWalletId: id('wal'),
    description: z.string().nullable(),
    failure: failureSchema,
    steps: z.array(sagaStepSchema),
    workflowId: z.string(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Payment' });

export const refundSchema = z
  .object({
    id: id('ref'),
    paymentId: id('pay'),
    status: sagaStatus,
    amount: minorUnits,
    feeRefunded: minorUnits.describe('the platform fee returned with it'),
    netAmount: minorUnits.describe('what the merchant gave back: amount − feeRefunded'),
    currency: z.string().length(3),
    reason: z.string().nullable(),
    failure: failureSchema,
    steps: z.array(sagaStepSchema),
    workflowId: z.string(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Refund' });

export const transferSchema = z
  .object({
    id: id('trf'),
    status: sagaStatus,
    amount: minorUnits,
    currency: z.string().length(3),
    fromWalletId: id('wal'),
    toWalletId: id('wal'),
    note: z.string().nullable(),
    failure: failureSchema,
    steps: z.array(sagaStepSchema),
    workflowId: z.string(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Transfer' });

export const reconciliationSchema = z
  .object({
    ok: z.boolean(),
    sumOfAllAccounts: z.number().int(),
    unbalancedJournals: z.number().int(),
    walletsOutOfSync: z.number().int(),
    negativeUserWallets: z.number().int(),
    stuckSagas: z.number().int(),
    clearingMismatch: z
      .array(z.object({ currency: z.string(), clearingBalance: z.number().int(), sagasInFlight: z.number().int() }))
      .describe('currencies whose clearing accounts, summed over their shards, differ from the money of their sagas in flight'),
    clearingShardMismatch: z
      .array(
        z.object({
          currency: z.string(),
          shard: z.number().int(),
          accountId: z.string(),
          clearingBalance: z.number().int(),
          sagasInFlight: z.number().int(),
        }),
      )
      .describe('clearing accounts (one shard of a currency each) whose balance differs from the money of the sagas in flight on that shard'),
    heldMismatch: z
      .array(z.object({ walletId: z.string(), held: z.number().int(), unreleasedSagaCredits: z.number().int() }))
      .describe('wallets whose held money differs from the unreleased credits of unfinished sagas (up to 10)'),
    offendingSagas: z.array(z.string()).describe('payment, transfer and refund ids whose money in clearing contradicts their state, money spread over two clearing shards included (up to 10)'),
    samples: z.object({
      unbalancedJournals: z.array(z.string()),
      walletsOutOfSync: z.array(z.string()),
      negativeUserWallets: z.array(z.string()),
      stuckSagas: z.array(z.string()),
    }),
    checkedAt: timestamp,
  })
  .meta({ id: 'Reconciliation' });

/** The contract's list form around `item`. */
export function listOf(item: z.ZodType) {
  return z.object({ data: z.array(item), hasMore: z.boolean(), nextCursor: z.string().nullable() });
}

export const blocklistEntrySchema = z
  .object({
    id: z.string().describe('blk_…'),
    kind: z.enum(['user', 'email', 'merchant']),
    value: z.string().describe('a user id, an e-mail address (lower case) or a merchant’s user id'),
    reason: z.string().nullable(),
    createdBy: id('usr'),
    createdAt: timestamp,
  })
  .meta({ id: 'BlocklistEntry' });
