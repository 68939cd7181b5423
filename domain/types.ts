/** Shapes shared by the API, activities and workflows. Plain data only: they cross Temporal as JSON. */

export type Role = 'customer' | 'merchant' | 'admin';
export type AccountKind = 'wallet' | 'external' | 'promotions' | 'fees' | 'clearing';
export type SystemAccountKind = Exclude<AccountKind, 'wallet'>;
export type WalletStatus = 'active' | 'frozen';

/** Ledger entry types as the API shows them. */
export type EntryType =
  | 'promo_credit'
  | 'topup'
  | 'payment_debit'
  | 'payment_credit'
  | 'payment_refund'
  | 'fee'
  | 'transfer_in'
  | 'transfer_out'
  | 'reversal';

/**
 * The id of a platform system account: deterministic, e.g. `acc_clearing_usd` for shard 0 (the
 * id the account had before the ledger was sharded) and `acc_clearing_usd_3` for shard 3.
 */
export function systemAccountId(kind: SystemAccountKind, currency: string, shard = 0): string {
  if (!Number.isSafeInteger(shard) || shard < 0) throw new RangeError(`a shard is a whole number from 0, got ${shard}`);
  const base = `acc_${kind}_${currency.toLowerCase()}`;
  return shard === 0 ? base : `${base}_${shard}`;
}

/** The `system_key` of a platform system account, unique like its id: `clearing:USD`, `clearing:USD:3`. */
export function systemAccountKey(kind: SystemAccountKind, currency: string, shard = 0): string {
  return shard === 0 ? `${kind}:${currency}` : `${kind}:${currency}:${shard}`;
}

/** Input of the onboarding saga. No secrets: histories are readable in the Web UI. */
export interface OnboardingInput {
  userId: string;
  role: Role;
  currency: string;
  promoCredit: number;
  /** The task queue of the notifications worker (configurable, so tests can isolate their workers). */
  notificationsTaskQueue: string;
}

/** What the onboarding saga returns. */
export interface OnboardingResult {
  walletId: string;
  promoJournalId: string | null;
  welcomeNotificationId: string;
}
