import { Context, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { ReviewResolution, RiskCheckedKind, RiskCheckResult, RiskRules } from '../domain/risk';
import { loadPaymentRecord } from '../store/payment-records';
import { checkSagaRisk, resolvePaymentReview, RISK_CHECK_STEP } from '../store/risk';
import { loadTransferRecord } from '../store/transfer-records';
import { withDomainFailures } from './failures';
import { sagaStepKit } from './saga-step-kit';

/** What the risk activities need. */
export interface RiskActivityDependencies {
  db: Knex;
  risk: RiskRules;
}

/** Counts into the worker's metrics; a no-op outside a worker's Runtime. */
function countRule(kind: RiskCheckedKind, rule: string, outcome: string): void {
  Context.current()
    .metricMeter.withTags({ saga: kind, rule, outcome })
    .createCounter('sagapay_risk_rule_outcomes', '1', 'Risk rule evaluations of payments and transfers, by rule and outcome')
    .add(1);
}

function countDecision(resolution: ReviewResolution): void {
  Context.current()
    .metricMeter.withTags({ decision: resolution })
    .createCounter('sagapay_risk_review_decisions', '1', 'Payment reviews ended, by decision (approve, decline, timeout)')
    .add(1);
}

/**
 * The `risk_check` step of payments and transfers, and the end of a payment's review. Thin over
 * store/risk.ts: the verdict is recorded once per saga, so a retried check answers the same, and
 * the metrics count only the attempt that recorded it.
 */
export function createRiskActivities({ db, risk }: RiskActivityDependencies) {
  const payments = sagaStepKit(db, 'payment', loadPaymentRecord);
  const transfers = sagaStepKit(db, 'transfer', loadTransferRecord);

  async function check(kind: RiskCheckedKind, sagaId: string): Promise<RiskCheckResult> {
    // Loaded through the kit for the fault drill, which may name the risk check.
    await (kind === 'payment' ? payments : transfers).load(sagaId, RISK_CHECK_STEP);
    const now = new Date();
    const { recorded, evaluated } = await checkSagaRisk(db, kind, sagaId, risk, now);
    if (evaluated) {
      for (const result of evaluated.results) countRule(kind, result.rule, result.outcome);
      log.info('risk checked', { sagaId, outcome: evaluated.outcome, rule: evaluated.rule });
    }
    const reviewTimeoutMs = recorded.reviewExpiresAt ? Math.max(1, recorded.reviewExpiresAt.getTime() - now.getTime()) : 0;
    return { outcome: recorded.outcome, rule: recorded.rule, reviewTimeoutMs };
  }

  return {
    /** Step risk_check of a payment: allow, review (the payment turns `in_review`) or decline, with the rule. */
    checkPaymentRisk: withDomainFailures(({ paymentId }: { paymentId: string }): Promise<RiskCheckResult> => check('payment', paymentId)),

    /** Step risk_check of a transfer: allow or decline, with the rule. */
    checkTransferRisk: withDomainFailures(({ transferId }: { transferId: string }): Promise<RiskCheckResult> => check('transfer', transferId)),

    /**
     * Ends a payment's review as its workflow decided (an admin's decision or the timeout);
     * approve lets the debit run. Idempotent: a retry answers the recorded resolution.
     */
    resolvePaymentReview: async (input: { paymentId: string; resolution: ReviewResolution; decidedBy: string | null }): Promise<{ resolution: ReviewResolution }> => {
      const answer = await resolvePaymentReview(db, input.paymentId, input.resolution, input.decidedBy);
      if (answer.fresh) countDecision(answer.resolution);
      log.info('payment review ended', { paymentId: input.paymentId, resolution: answer.resolution, fresh: answer.fresh });
      return { resolution: answer.resolution };
    },
  };
}
