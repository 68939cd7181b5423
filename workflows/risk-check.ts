import { ApplicationFailure, condition, defineUpdate, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors';
import {
  REVIEW_DECLINED_RULE,
  REVIEW_PAYMENT_UPDATE,
  REVIEW_TIMEOUT_RULE,
  riskDeclinedMessage,
  type ReviewPaymentInput,
  type ReviewResolution,
  type RiskCheckedKind,
  type RiskCheckResult,
} from '../domain/risk';
import { SagaStatusKey } from '../domain/search-attributes';
import { compensation, forward, type MoneyStep } from './money-saga';

/** An admin's decision on a payment in review; answers how the review ended once it is recorded. */
export const reviewPaymentUpdate = defineUpdate<{ resolution: ReviewResolution }, [ReviewPaymentInput]>(REVIEW_PAYMENT_UPDATE);

/** The non-retryable failure a risk decline ends the saga with; its detail is the rule, `failure.rule`. */
function riskDeclined(kind: RiskCheckedKind, rule: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.RiskDeclined, message: riskDeclinedMessage(kind, rule), nonRetryable: true, details: [rule] });
}

/** Throws the decline of a verdict that is not allow (a review is the caller's business). */
function refuseUnlessAllowed(kind: RiskCheckedKind, verdict: RiskCheckResult): void {
  if (verdict.outcome === 'decline') throw riskDeclined(kind, verdict.rule ?? 'unknown');
}

/** The transfer's `risk_check` step: allow, or decline with the rule (a transfer never waits for a review). */
export function transferRiskCheck(transferId: string): MoneyStep {
  return {
    name: 'risk_check',
    run: async () => {
      const verdict = await forward.checkTransferRisk({ transferId });
      if (verdict.outcome === 'review') throw new Error('a transfer cannot wait for a review');
      refuseUnlessAllowed('transfer', verdict);
    },
  };
}

/**
 * The payment's `risk_check` step. On review the payment (already `in_review` in the database)
 * waits for the `reviewPayment` Update or its timeout; the first decision wins, and the Update's
 * validator refuses any other (already decided, timed out, or the check did not send it to review),
 * so two admins racing get one answer each: one accepted, one refused. A decision may arrive while
 * the check is still being answered (the database says `in_review` a moment before the workflow
 * knows): it is held until the review opens, and refused if the check allowed or declined instead.
 * The resolution is recorded before the Update answers; approve lets the saga go on to the debit,
 * decline and timeout end it `risk_declined`. Registers the Update's handler at once: call it when
 * the workflow starts.
 */
export function paymentRiskCheck(paymentId: string): MoneyStep {
  const review: { open: boolean; skipped: boolean; closed: boolean; decision?: ReviewPaymentInput; recorded?: ReviewResolution } = {
    open: false,
    skipped: false,
    closed: false,
  };
  setHandler(
    reviewPaymentUpdate,
    async (input) => {
      review.decision = input;
      await condition(() => review.open || review.skipped);
      if (!review.open) throw ApplicationFailure.create({ type: 'NotInReview', message: 'the payment is not in review', nonRetryable: true });
      await condition(() => review.recorded !== undefined);
      return { resolution: review.recorded ?? 'timeout' };
    },
    {
      validator: (input: ReviewPaymentInput) => {
        if (review.skipped || review.closed) throw new Error('the payment is not in review');
        if (review.decision) throw new Error('the review was already decided');
        if (input.decision !== 'approve' && input.decision !== 'decline') throw new Error('the decision must be approve or decline');
        if (typeof input.adminId !== 'string' || input.adminId === '') throw new Error('the decision needs the admin who took it');
      },
    },
  );
  return {
    name: 'risk_check',
    run: async () => {
      const verdict = await forward.checkPaymentRisk({ paymentId });
      if (verdict.outcome !== 'review') {
        review.skipped = true;
        return refuseUnlessAllowed('payment', verdict);
      }
      review.open = true;
      upsertSearchAttributes([{ key: SagaStatusKey, value: 'in_review' }]);
      await condition(() => review.decision !== undefined, verdict.reviewTimeoutMs);
      review.closed = true;
      const decided = review.decision;
      const { resolution } = await compensation.resolvePaymentReview({ paymentId, resolution: decided?.decision ?? 'timeout', decidedBy: decided?.adminId ?? null });
      review.recorded = resolution;
      upsertSearchAttributes([{ key: SagaStatusKey, value: 'running' }]);
      if (resolution !== 'approve') throw riskDeclined('payment', resolution === 'timeout' ? REVIEW_TIMEOUT_RULE : REVIEW_DECLINED_RULE);
    },
  };
}
