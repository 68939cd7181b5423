import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, asCurrency, type Currency } from '../api/client';
import { ErrorBanner, Field, SelectField, SubmitButton } from '../components/forms';
import { useMoneySubmission } from '../components/money-form';
import { formatMoney, parseAmount } from '../money';
import { navigate } from '../router';
import { useSession } from '../session';

const FAULT_STEPS = ['validate', 'debit_payer', 'credit_merchant', 'write_ledger', 'notify'];

interface PaymentDraft {
  merchantId: string;
  amount: number;
  currency: Currency;
  description?: string;
  fault: string;
}

/** Pay a merchant: fill in, review, confirm; then watch the saga on the payment's page. */
export function PayPage(): JSX.Element {
  const { wallets, settings } = useSession();
  const currencies = wallets.map((wallet) => wallet.currency);
  const [merchantId, setMerchantId] = useState('');
  const [currency, setCurrency] = useState(currencies[0] ?? settings.currencies[0] ?? 'USD');
  const [amountText, setAmountText] = useState('');
  const [description, setDescription] = useState('');
  const [fault, setFault] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [draft, setDraft] = useState<PaymentDraft | undefined>(undefined);
  // Prefer: respond-async: the answer comes at once and the payment's page shows the saga's steps live.
  const payment = useMoneySubmission('payment', ({ fault: faultStep, ...body }: PaymentDraft, key: string) =>
    api.POST('/v1/payments', {
      body,
      headers: { 'Idempotency-Key': key, Prefer: 'respond-async', ...(faultStep ? { 'X-Saga-Fault': faultStep } : {}) },
    }),
  );

  const review = (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!/^\S+$/.test(merchantId.trim())) found.merchantId = 'Enter the merchant’s id (usr_…).';
    const amount = parseAmount(amountText, currency);
    if (!amount.ok) found.amount = amount.message;
    setErrors(found);
    if (!amount.ok || Object.keys(found).length > 0) return;
    setDraft({ merchantId: merchantId.trim(), amount: amount.minorUnits, currency: asCurrency(currency), ...(description.trim() ? { description: description.trim() } : {}), fault });
  };

  const confirm = async (event: Event) => {
    event.preventDefault();
    if (!draft) return;
    const created = await payment.submit(draft);
    if (created) navigate(`/payments/${created.id}`);
  };

  const fields = payment.problem?.fields ?? {};
  if (draft && Object.keys(fields).length === 0) {
    return (
      <section class="card narrow">
        <h1>Confirm the payment</h1>
        <dl class="summary">
          <dt>To merchant</dt>
          <dd>{draft.merchantId}</dd>
          <dt>Amount</dt>
          <dd data-testid="confirm-amount">{formatMoney(draft.amount, draft.currency)}</dd>
          <dt>From</dt>
          <dd>Your {draft.currency} wallet</dd>
          {draft.description && (
            <>
              <dt>Description</dt>
              <dd>{draft.description}</dd>
            </>
          )}
          {draft.fault && (
            <>
              <dt>Fault drill</dt>
              <dd>the step {draft.fault} will fail</dd>
            </>
          )}
        </dl>
        <form onSubmit={(event) => void confirm(event)}>
          <ErrorBanner problem={payment.problem} />
          <div class="actions">
            <SubmitButton busy={payment.busy} busyLabel="Paying…">
              Pay {formatMoney(draft.amount, draft.currency)}
            </SubmitButton>
            <button type="button" onClick={() => (payment.setProblem(undefined), setDraft(undefined))} disabled={payment.busy}>
              Change
            </button>
          </div>
        </form>
      </section>
    );
  }

  return (
    <section class="card narrow">
      <h1>Pay a merchant</h1>
      <form onSubmit={review} noValidate>
        <ErrorBanner problem={payment.problem} />
        <Field
          id="merchantId"
          label="Merchant id"
          hint="The merchant’s id, as shown on their payment page (usr_…)."
          autocomplete="off"
          value={merchantId}
          error={errors.merchantId ?? fields.merchantId}
          onInput={(event) => setMerchantId(event.currentTarget.value)}
        />
        <SelectField id="currency" label="Pay from wallet" value={currency} error={fields.currency} onChange={setCurrency} options={currencies.map((code) => ({ value: code, label: `${code} wallet` }))} />
        <Field
          id="amount"
          label={`Amount (${currency})`}
          inputMode="decimal"
          autocomplete="off"
          placeholder="12.34"
          value={amountText}
          error={errors.amount ?? fields.amount}
          onInput={(event) => setAmountText(event.currentTarget.value)}
        />
        <Field id="description" label="Description (optional)" maxLength={200} value={description} error={fields.description} onInput={(event) => setDescription(event.currentTarget.value)} />
        {settings.sagaFaults && (
          <SelectField
            id="fault"
            label="Fault drill (test servers only)"
            value={fault}
            onChange={setFault}
            options={[{ value: '', label: 'No fault' }, ...FAULT_STEPS.map((step) => ({ value: step, label: `Fail the ${step} step` }))]}
          />
        )}
        <SubmitButton busy={false}>Review payment</SubmitButton>
      </form>
    </section>
  );
}
