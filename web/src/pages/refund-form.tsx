import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, type Payment } from '../api/client';
import { ErrorBanner, Field, SubmitButton } from '../components/forms';
import { useMoneySubmission } from '../components/money-form';
import { formatMoney, parseAmount, toDecimalText } from '../money';
import { navigate } from '../router';

/** Refund a payment fully (amount left empty) or partly; then the refund's saga page. */
export function RefundForm({ payment, onDone }: { payment: Payment; onDone?: () => void }): JSX.Element | null {
  const remaining = payment.amount - payment.refundedAmount;
  const [amountText, setAmountText] = useState('');
  const [reason, setReason] = useState('');
  const [amountError, setAmountError] = useState<string | undefined>(undefined);
  const refund = useMoneySubmission(`refund-${payment.id}`, (body: { amount?: number; reason?: string }, key: string) =>
    api.POST('/v1/payments/{id}/refunds', { params: { path: { id: payment.id } }, body, headers: { 'Idempotency-Key': key, Prefer: 'respond-async' } }),
  );
  if (remaining <= 0) return <p class="small">Fully refunded.</p>;
  const submit = async (event: Event) => {
    event.preventDefault();
    let amount: number | undefined;
    if (amountText.trim() !== '') {
      const parsed = parseAmount(amountText, payment.currency);
      if (!parsed.ok) return setAmountError(parsed.message);
      amount = parsed.minorUnits;
    }
    setAmountError(undefined);
    const created = await refund.submit({ ...(amount !== undefined ? { amount } : {}), ...(reason.trim() ? { reason: reason.trim() } : {}) });
    if (created) {
      onDone?.();
      navigate(`/refunds/${created.id}`);
    }
  };
  return (
    <form class="refund-form" onSubmit={(event) => void submit(event)} noValidate aria-label={`Refund payment ${payment.id}`}>
      <h2>Refund</h2>
      <ErrorBanner problem={refund.problem} />
      <Field
        id={`refund-amount-${payment.id}`}
        label={`Amount to refund (${payment.currency})`}
        hint={`Leave empty to refund all that is left: ${formatMoney(remaining, payment.currency)}.`}
        inputMode="decimal"
        autocomplete="off"
        placeholder={toDecimalText(remaining, payment.currency)}
        value={amountText}
        error={amountError ?? refund.problem?.fields.amount}
        onInput={(event) => setAmountText(event.currentTarget.value)}
      />
      <Field id={`refund-reason-${payment.id}`} label="Reason (optional)" maxLength={200} value={reason} error={refund.problem?.fields.reason} onInput={(event) => setReason(event.currentTarget.value)} />
      <SubmitButton busy={refund.busy} busyLabel="Refunding…">
        Refund
      </SubmitButton>
    </form>
  );
}
