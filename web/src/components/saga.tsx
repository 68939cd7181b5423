import type { JSX } from 'preact';
import type { SagaStep } from '../api/client';
import { formatTime } from '../money';

/** A money saga's kind, as the timeline needs it: its forward steps in order, and its compensations. */
export type SagaKind = 'payment' | 'transfer' | 'refund';

const FORWARD_STEPS: Record<SagaKind, string[]> = {
  payment: ['validate', 'risk_check', 'debit_payer', 'credit_merchant', 'write_ledger', 'notify'],
  transfer: ['validate', 'risk_check', 'debit_sender', 'credit_recipient', 'write_ledger', 'notify'],
  refund: ['validate', 'debit_merchant', 'credit_payer', 'write_ledger', 'notify'],
};

/** The compensation that undoes each money-moving step (the step then reads `compensated`). */
const COMPENSATION_OF: Record<string, string> = {
  debit_payer: 'refund_payer',
  credit_merchant: 'reverse_merchant_credit',
  debit_sender: 'refund_sender',
  credit_recipient: 'reverse_recipient_credit',
  debit_merchant: 'return_merchant_debit',
  credit_payer: 'reverse_payer_credit',
};

/** Steps a server may not run (risk checks arrive with their own issue): listed only once seen. */
const OPTIONAL_STEPS = new Set(['risk_check']);

const STEP_LABELS: Record<string, string> = {
  validate: 'Validate',
  risk_check: 'Risk check',
  debit_payer: 'Debit your wallet',
  credit_merchant: 'Credit the merchant',
  debit_sender: 'Debit the sender',
  credit_recipient: 'Credit the recipient',
  debit_merchant: 'Debit the merchant',
  credit_payer: 'Credit the payer',
  write_ledger: 'Write the ledger',
  notify: 'Notify',
  refund_payer: 'Money returned to the payer',
  reverse_merchant_credit: 'Merchant credit reversed',
  refund_sender: 'Money returned to the sender',
  reverse_recipient_credit: 'Recipient credit reversed',
  return_merchant_debit: 'Money returned to the merchant',
  reverse_payer_credit: 'Payer credit reversed',
};

/** A step's name for people. */
export function stepLabel(name: string): string {
  return STEP_LABELS[name] ?? name.replace(/_/g, ' ');
}

const STATUS_WORDS = { completed: 'done', failed: 'failed', compensated: 'compensated', running: 'in progress', waiting: 'waiting', skipped: 'not run' } as const;
type RowStatus = keyof typeof STATUS_WORDS;
const STATUS_ICONS: Record<RowStatus, string> = { completed: '✓', failed: '✗', compensated: '↺', running: '…', waiting: '○', skipped: '–' };

/**
 * The saga's steps as they happen: each forward step done, failed, in progress or waiting, and
 * below them the compensations that undid completed steps, marked as such.
 */
export function SagaTimeline({ kind, steps, final }: { kind: SagaKind; steps: SagaStep[]; final: boolean }): JSX.Element {
  const seen = new Map(steps.map((step) => [step.name, step]));
  const forward = FORWARD_STEPS[kind].filter((name) => !OPTIONAL_STEPS.has(name) || seen.has(name));
  // Undone in reverse order of completion: the last step that moved money is compensated first.
  const compensations = steps
    .filter((step) => step.status === 'compensated')
    .reverse()
    .map((step) => ({ ...step, name: COMPENSATION_OF[step.name] ?? `undo ${step.name}` }));
  const firstOpen = forward.findIndex((name) => !seen.has(name));
  const rows = forward.map((name, index) => {
    const step = seen.get(name);
    // Notify runs after the status is final (success or failure alike): until it is recorded it is in progress.
    const status: RowStatus = step ? step.status : final ? (name === 'notify' ? 'running' : 'skipped') : index === firstOpen ? 'running' : 'waiting';
    return { name, status, at: step?.at };
  });
  return (
    <div class="timeline">
      <ol aria-label="Saga steps">
        {rows.map((row) => (
          <li key={row.name} class={`step step-${row.status}`} data-step={row.name} data-status={row.status}>
            <span class="step-icon" aria-hidden="true">
              {STATUS_ICONS[row.status]}
            </span>
            <span class="step-name">{stepLabel(row.name)}</span>
            <span class="step-status">{STATUS_WORDS[row.status]}</span>
            {row.at && <time dateTime={row.at}>{formatTime(row.at)}</time>}
          </li>
        ))}
      </ol>
      {compensations.length > 0 && (
        <>
          <h3 class="compensations-title">Compensations (undoing the completed steps)</h3>
          <ol aria-label="Compensations" class="compensations">
            {compensations.map((step) => (
              <li key={step.name} class="step step-compensated" data-step={step.name} data-status="compensated">
                <span class="step-icon" aria-hidden="true">
                  {STATUS_ICONS[step.status]}
                </span>
                <span class="step-name">{stepLabel(step.name)}</span>
                <span class="step-status">done</span>
                <time dateTime={step.at}>{formatTime(step.at)}</time>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}

/** A saga's status as a badge with words (colour is never the only signal). */
export function StatusBadge({ status }: { status: string }): JSX.Element {
  const words: Record<string, string> = { pending: 'Pending', processing: 'Processing', in_review: 'In review', succeeded: 'Succeeded', failed: 'Failed', active: 'Active', frozen: 'Frozen' };
  return <span class={`badge badge-${status}`}>{words[status] ?? status}</span>;
}

/** Whether a saga is done for the timeline: final, and its notify step recorded. */
export function isSettled(saga: { status: string; steps: SagaStep[] }): boolean {
  return isFinal(saga.status) && saga.steps.some((step) => step.name === 'notify');
}

/** Whether a saga status is final. */
export function isFinal(status: string): boolean {
  return status === 'succeeded' || status === 'failed';
}
