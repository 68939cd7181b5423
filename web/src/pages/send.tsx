import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, asCurrency, type Currency } from '../api/client';
import { ErrorBanner, Field, SelectField, SubmitButton } from '../components/forms';
import { useMoneySubmission } from '../components/money-form';
import { formatMoney, parseAmount } from '../money';
import { navigate } from '../router';
import { useSession } from '../session';

interface TransferDraft {
  toEmail: string;
  amount: number;
  currency: Currency;
  note?: string;
}

/** Send money to a person by e-mail: fill in, review, confirm; then watch the transfer's saga. */
export function SendPage(): JSX.Element {
  const { wallets, settings } = useSession();
  const currencies = wallets.map((wallet) => wallet.currency);
  const [toEmail, setToEmail] = useState('');
  const [currency, setCurrency] = useState(currencies[0] ?? settings.currencies[0] ?? 'USD');
  const [amountText, setAmountText] = useState('');
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [draft, setDraft] = useState<TransferDraft | undefined>(undefined);
  const transfer = useMoneySubmission('transfer', (body: TransferDraft, key: string) =>
    api.POST('/v1/transfers', { body, headers: { 'Idempotency-Key': key, Prefer: 'respond-async' } }),
  );

  const review = (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(toEmail.trim())) found.toEmail = 'Enter the recipient’s e-mail address.';
    const amount = parseAmount(amountText, currency);
    if (!amount.ok) found.amount = amount.message;
    setErrors(found);
    if (!amount.ok || Object.keys(found).length > 0) return;
    setDraft({ toEmail: toEmail.trim(), amount: amount.minorUnits, currency: asCurrency(currency), ...(note.trim() ? { note: note.trim() } : {}) });
  };

  const confirm = async (event: Event) => {
    event.preventDefault();
    if (!draft) return;
    const created = await transfer.submit(draft);
    if (created) navigate(`/transfers/${created.id}`);
  };

  const fields = transfer.problem?.fields ?? {};
  if (draft && Object.keys(fields).length === 0) {
    return (
      <section class="card narrow">
        <h1>Confirm the transfer</h1>
        <dl class="summary">
          <dt>To</dt>
          <dd>{draft.toEmail}</dd>
          <dt>Amount</dt>
          <dd>{formatMoney(draft.amount, draft.currency)}</dd>
          {draft.note && (
            <>
              <dt>Note</dt>
              <dd>{draft.note}</dd>
            </>
          )}
        </dl>
        <form onSubmit={(event) => void confirm(event)}>
          <ErrorBanner problem={transfer.problem} />
          <div class="actions">
            <SubmitButton busy={transfer.busy} busyLabel="Sending…">
              Send {formatMoney(draft.amount, draft.currency)}
            </SubmitButton>
            <button type="button" onClick={() => (transfer.setProblem(undefined), setDraft(undefined))} disabled={transfer.busy}>
              Change
            </button>
          </div>
        </form>
      </section>
    );
  }

  return (
    <section class="card narrow">
      <h1>Send money</h1>
      <form onSubmit={review} noValidate>
        <ErrorBanner problem={transfer.problem} />
        <Field id="toEmail" label="Recipient’s e-mail" type="email" autocomplete="off" value={toEmail} error={errors.toEmail ?? fields.toEmail} onInput={(event) => setToEmail(event.currentTarget.value)} />
        <SelectField id="currency" label="From wallet" value={currency} error={fields.currency} onChange={setCurrency} options={currencies.map((code) => ({ value: code, label: `${code} wallet` }))} />
        <Field
          id="amount"
          label={`Amount (${currency})`}
          inputMode="decimal"
          autocomplete="off"
          placeholder="5.00"
          value={amountText}
          error={errors.amount ?? fields.amount}
          onInput={(event) => setAmountText(event.currentTarget.value)}
        />
        <Field id="note" label="Note (optional)" maxLength={200} value={note} error={fields.note} onInput={(event) => setNote(event.currentTarget.value)} />
        <SubmitButton busy={false}>Review transfer</SubmitButton>
      </form>
    </section>
  );
}
