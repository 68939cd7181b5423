import type { MoneySagaKind } from './money-sagas';

/**
 * Risk checks of payments and transfers, as pure functions: the `risk_check` step gathers the
 * facts from the database and asks `evaluateRisk` what to do. Every rule answers allow, review or
 * decline; the saga follows the strictest answer. Only payments can wait for a review: a transfer's
 * review answer becomes a decline.
 */

/** The window of the daily limit: 24 hours before a saga was created. */
export const DAILY_LIMIT_WINDOW_MS = 86_400_000;

/**
 * The daily limit (`PAYMENT_DAILY_LIMIT`) is one limit per person and currency, across kinds: a
 * person's payments and transfers in one currency that their `validate` step accepted in the 24
 * hours before a new one (processing, in review or succeeded) add up, with the new one, to at most
 * the limit. One limit bounds what a person (or a thief with their token) can move out per day
 * whatever the channel; per-kind limits would add up (two of each at 400 000 moved 1.6 M against a
 * limit of 1 M). Amounts in different currencies are not comparable, so each currency is counted
 * apart. It is judged in `validate` under the person's wallet lock, not by `risk_check`, so racing
 * sagas are judged one after the other and the limit holds exactly.
 */
export function withinDailyLimit(outflowBefore: number, amount: number, limit: number): boolean {
  return outflowBefore + amount <= limit;
}

/** What one rule, or the whole check, answers. */
export type RiskOutcome = 'allow' | 'review' | 'decline';

/** The rules, by the name a declined saga's `failure.rule` carries. */
export const RISK_RULES = ['blocklist', 'velocity_count', 'velocity_amount', 'new_account', 'new_recipient'] as const;

/** One rule's name. */
export type RiskRule = (typeof RISK_RULES)[number];

/** The `failure.rule` of a payment an admin declined in review, and of one whose review timed out. */
export const REVIEW_DECLINED_RULE = 'review_declined';
export const REVIEW_TIMEOUT_RULE = 'review_timeout';

/** The kinds of money saga that run a `risk_check` step. */
export type RiskCheckedKind = Extract<MoneySagaKind, 'payment' | 'transfer'>;

/** The rules' limits, from configuration. A limit of 0 turns its rule off. */
export interface RiskRules {
  /** Most sagas one payer may start in the window (this one included); 0 = off. */
  velocityMaxCount: number;
  /** Most one payer may send in the window in one currency (this one included), minor units; 0 = off. */
  velocityMaxAmount: number;
  /** The velocity window, in milliseconds. */
  velocityWindowMs: number;
  /** An account younger than this is new; 0 = off. */
  newAccountAgeMs: number;
  /** Most a new account may send at once, minor units. */
  newAccountMaxAmount: number;
  /** A first payment to a recipient above this goes to review (a transfer is declined); 0 = off. */
  newRecipientReviewAmount: number;
  /** How long a payment in review waits for an admin before it is declined. */
  reviewTimeoutMs: number;
}

/** What the rules look at, gathered by the `risk_check` activity. */
export interface RiskFacts {
  kind: RiskCheckedKind;
  /** This saga's amount, minor units. */
  amount: number;
  /** True when the payer, their e-mail, the merchant or the recipient is on the blocklist. */
  blocklisted: boolean;
  /** The payer's other sagas in the velocity window (failed ones not counted). */
  recentCount: number;
  /** What they add up to in this saga's currency, minor units. */
  recentAmount: number;
  /** How old the payer's account is, in milliseconds. */
  accountAgeMs: number;
  /** True when the payer has paid this recipient before (a succeeded saga). */
  knownRecipient: boolean;
}

/** One rule's answer. */
export interface RuleResult {
  rule: RiskRule;
  outcome: RiskOutcome;
}

/** The check's answer: the strictest outcome, the rule that gave it (null on allow), and every rule's answer. */
export interface RiskVerdict {
  outcome: RiskOutcome;
  rule: RiskRule | null;
  results: RuleResult[];
}

const SEVERITY: Record<RiskOutcome, number> = { allow: 0, review: 1, decline: 2 };

function ruleOutcomes(facts: RiskFacts, rules: RiskRules): RuleResult[] {
  const over = (limit: number, value: number) => limit > 0 && value > limit;
  const isNew = rules.newAccountAgeMs > 0 && facts.accountAgeMs < rules.newAccountAgeMs;
  const firstPaymentAbove = !facts.knownRecipient && over(rules.newRecipientReviewAmount, facts.amount);
  return [
    { rule: 'blocklist', outcome: facts.blocklisted ? 'decline' : 'allow' },
    { rule: 'velocity_count', outcome: over(rules.velocityMaxCount, facts.recentCount + 1) ? 'decline' : 'allow' },
    { rule: 'velocity_amount', outcome: over(rules.velocityMaxAmount, facts.recentAmount + facts.amount) ? 'decline' : 'allow' },
    { rule: 'new_account', outcome: isNew && facts.amount > rules.newAccountMaxAmount ? 'decline' : 'allow' },
    { rule: 'new_recipient', outcome: firstPaymentAbove ? (facts.kind === 'payment' ? 'review' : 'decline') : 'allow' },
  ];
}

/**
 * Applies every rule to the facts. The verdict is the strictest rule's outcome (decline over
 * review over allow; among equals, the first in RISK_RULES order), naming that rule.
 */
export function evaluateRisk(facts: RiskFacts, rules: RiskRules): RiskVerdict {
  if (!Number.isSafeInteger(facts.amount) || facts.amount <= 0) throw new Error('a risk check needs a positive whole amount');
  const results = ruleOutcomes(facts, rules);
  const strictest = results.reduce<RuleResult | null>((worst, result) => {
    if (result.outcome === 'allow') return worst;
    return !worst || SEVERITY[result.outcome] > SEVERITY[worst.outcome] ? result : worst;
  }, null);
  return { outcome: strictest?.outcome ?? 'allow', rule: strictest?.rule ?? null, results };
}

/** An admin's answer to a payment in review. */
export type ReviewDecision = 'approve' | 'decline';

/** How a review ended: an admin's decision, or its timeout. */
export type ReviewResolution = ReviewDecision | 'timeout';

/** The name of the Update an admin's decision reaches a payment's workflow through. */
export const REVIEW_PAYMENT_UPDATE = 'reviewPayment';

/** The Update's argument: the decision and the admin who took it. */
export interface ReviewPaymentInput {
  decision: ReviewDecision;
  adminId: string;
}

/** What the `risk_check` activity answers the workflow. */
export interface RiskCheckResult {
  outcome: RiskOutcome;
  rule: string | null;
  /** For a review: how long to wait for an admin. */
  reviewTimeoutMs: number;
}

/** A blocklist entry's kind: a user id, an e-mail address (lower case), or a merchant's user id. */
export const BLOCKLIST_KINDS = ['user', 'email', 'merchant'] as const;

/** A blocklist entry's kind. */
export type BlocklistKind = (typeof BLOCKLIST_KINDS)[number];

/** The message of a saga declined by risk, naming the rule. */
export function riskDeclinedMessage(kind: RiskCheckedKind, rule: string): string {
  return `the ${kind} was declined by the risk check (${rule})`;
}

/** Every rule off but the blocklist, reviews declined after 24 hours: the configuration's defaults. */
export const DEFAULT_RISK_RULES: RiskRules = {
  velocityMaxCount: 0,
  velocityMaxAmount: 0,
  velocityWindowMs: 3_600_000,
  newAccountAgeMs: 0,
  newAccountMaxAmount: 50_000,
  newRecipientReviewAmount: 0,
  reviewTimeoutMs: 86_400_000,
};
