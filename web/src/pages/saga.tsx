import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, unwrap, type Payment, type Refund, type Transfer } from '../api/client';
import { ErrorBanner } from '../components/forms';
import { SagaTimeline, StatusBadge, isFinal, isSettled, type SagaKind } from '../components/saga';
import { usePolling } from '../hooks';
import { formatMoney, formatTime } from '../money';
import { Link } from '../router';
import { useSession } from '../session';
import { temporalWorkflowUrl } from '../settings';
import { RefundForm } from './refund-form';
import { ReviewForm } from './review-form';

/** How often a saga that is not final yet is read again. */
const SAGA_POLL_MS = 400;
const REVIEW_POLL_MS = 5_000;
/** How long after a saga's final status the page still waits for its notify step to be recorded. */
const NOTIFY_GRACE_MS = 30_000;

type Saga = Payment | Transfer | Refund;

async function loadSaga(kind: SagaKind, id: string): Promise<Saga> {
  const params = { params: { path: { id } } };
  if (kind === 'payment') return unwrap(await api.GET('/v1/payments/{id}', params));
  if (kind === 'transfer') return unwrap(await api.GET('/v1/transfers/{id}', params));
  return unwrap(await api.GET('/v1/refunds/{id}', params));
}

const TITLES: Record<SagaKind, string> = { payment: 'Payment', transfer: 'Transfer', refund: 'Refund' };

function Details({ kind, saga }: { kind: SagaKind; saga: Saga }): JSX.Element {
  const rows: Array<[string, string | JSX.Element]> = [['Amount', formatMoney(saga.amount, saga.currency)]];
  if (kind === 'payment') {
    const payment = saga as Payment;
    rows.push(['Fee', formatMoney(payment.fee, payment.currency)], ['Merchant receives', formatMoney(payment.netAmount, payment.currency)]);
    if (payment.refundedAmount > 0) rows.push(['Refunded', formatMoney(payment.refundedAmount, payment.currency)]);
    if (payment.description) rows.push(['Description', payment.description]);
    rows.push(['Merchant', payment.merchantId]);
  } else if (kind === 'transfer') {
    const transfer = saga as Transfer;
    if (transfer.note) rows.push(['Note', transfer.note]);
  } else {
    const refund = saga as Refund;
    rows.push(['Fee returned', formatMoney(refund.feeRefunded, refund.currency)], ['Payment', <Link href={`/payments/${refund.paymentId}`}>{refund.paymentId}</Link>]);
    if (refund.reason) rows.push(['Reason', refund.reason]);
  }
  rows.push(['Started', formatTime(saga.createdAt)], ['Reference', saga.id]);
  return (
    <dl class="summary">
      {rows.map(([term, value]) => (
        <>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
  );
}

/** A payment, transfer or refund, its saga's steps updating live until it is final. */
export function SagaPage({ kind, id }: { kind: SagaKind; id: string }): JSX.Element {
  const { user, settings } = useSession();
  // A payment in review may wait for hours: it is read less often then.
  const [inReview, setInReview] = useState(false);
  const { value: saga, problem, reload } = usePolling(() => loadSaga(kind, id), [kind, id], {
    intervalMs: inReview ? REVIEW_POLL_MS : SAGA_POLL_MS,
    stopWhen: (found) => {
      setInReview(found.status === 'in_review');
      return isSettled(found) || (isFinal(found.status) && Date.now() - Date.parse(found.updatedAt) > NOTIFY_GRACE_MS);
    },
  });
  if (!saga) {
    return (
      <section class="card">
        <h1>{TITLES[kind]}</h1>
        {problem ? <ErrorBanner problem={problem} /> : <p role="status">Loading…</p>}
      </section>
    );
  }
  const final = isFinal(saga.status);
  return (
    <section class="card">
      <header class="saga-head">
        <h1>
          {TITLES[kind]} of {formatMoney(saga.amount, saga.currency)}
        </h1>
        <p role="status" aria-live="polite" data-testid="saga-status">
          <StatusBadge status={saga.status} />
          {!final && <span class="small"> following the saga live…</span>}
        </p>
      </header>
      {saga.failure && (
        <div class="banner banner-error" data-testid="failure">
          <p>
            <strong>Why it failed:</strong> {saga.failure.message} <code>{saga.failure.code}</code>
          </p>
          <p class="small">No money stayed moved: every completed step was undone.</p>
        </div>
      )}
      <SagaTimeline kind={kind} steps={saga.steps} final={final} />
      <Details kind={kind} saga={saga} />
      {kind === 'payment' && user.role === 'admin' && saga.status === 'in_review' && <ReviewForm paymentId={saga.id} onDone={reload} />}
      {user.role === 'admin' && (
        <p>
          <a href={temporalWorkflowUrl(settings, saga.workflowId)} target="_blank" rel="noopener noreferrer">
            Open {saga.workflowId} in the Temporal Web UI
          </a>
        </p>
      )}
      {kind === 'payment' && final && (user.role === 'merchant' || user.role === 'admin') && (saga as Payment).merchantId && saga.status === 'succeeded' && (
        <RefundForm payment={saga as Payment} onDone={reload} />
      )}
    </section>
  );
}
