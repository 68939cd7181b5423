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

/** The id of a platform system account: deterministic, e.g. `acc_clearing_usd`. */
export function systemAccountId(kind: SystemAccountKind, currency: string): string {
  return `acc_${kind}_${currency.toLowerCase()}`;
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
