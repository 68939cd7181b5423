import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, asCurrency, asProblem, type Currency } from '../api/client';
import { ConfirmMoneyForm, Detail, ErrorBanner, explain, Field, SelectField, SubmitButton } from '../components/forms';
import { lookUpRecipient } from '../components/recipient';
import { useMoneySubmission } from '../components/money-form';
import { formatMoney, parseAmount } from '../money';
import { navigate } from '../router';
import { useSession } from '../session';

interface TransferDraft {
  toEmail?: string;
  to?: string;
  amount: number;
  currency: Currency;
  note?: string;
}

/** Send money to a person by e-mail: fill in, review, confirm; then watch the transfer's saga. */
export function SendPage(): JSX.Element {
  const { wallets, settings } = useSession();
  const currencies = wallets.map((wallet) => wallet.currency);
  const [toText, setToText] = useState('');
  const [recipientName, setRecipientName] = useState('');
  const [checking, setChecking] = useState(false);
  const [currency, setCurrency] = useState(currencies[0] ?? settings.currencies[0] ?? 'USD');
  const [amountText, setAmountText] = useState('');
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [draft, setDraft] = useState<TransferDraft | undefined>(undefined);
  const transfer = useMoneySubmission('transfer', (body: TransferDraft, key: string) =>
    api.POST('/v1/transfers', { body, headers: { 'Idempotency-Key': key, Prefer: 'respond-async' } }),
  );

  /** The recipient's name for the confirmation, from the @handle or e-mail typed; or what is wrong. */
  const resolveRecipient = async (): Promise<{ reference: Pick<TransferDraft, 'to' | 'toEmail'>; name: string } | string> => {
    const text = toText.trim();
    const isEmail = /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);
    const isHandle = /^@[A-Za-z0-9_]{3,30}$/.test(text);
    if (!isEmail && !isHandle) return 'Enter an @handle or an e-mail address.';
    const reference = isHandle ? { to: text.toLowerCase() } : { toEmail: text };
    try {
      const recipient = await lookUpRecipient(isHandle ? text.toLowerCase() : text);
      if (recipient.kind === 'merchant') return `${text} is a merchant: pay them from the Pay page.`;
      return { reference, name: recipient.name };
    } catch (error) {
      const problem = asProblem(error);
      return problem.status === 404 ? `Nobody has the ${isHandle ? 'handle' : 'address'} ${text}.` : explain(problem);
    }
  };

  const review = async (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    const amount = parseAmount(amountText, currency);
    if (!amount.ok) found.amount = amount.message;
    setChecking(true);
    const recipient = await resolveRecipient();
    setChecking(false);
    if (typeof recipient === 'string') found.to = recipient;
    setErrors(found);
    if (!amount.ok || typeof recipient === 'string') return;
    setRecipientName(recipient.name);
    setDraft({ ...recipient.reference, amount: amount.minorUnits, currency: asCurrency(currency), ...(note.trim() ? { note: note.trim() } : {}) });
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
          <dd data-testid="confirm-recipient">
            <strong>{recipientName}</strong> ({draft.to ?? draft.toEmail})
          </dd>
          <dt>Amount</dt>
          <dd>{formatMoney(draft.amount, draft.currency)}</dd>
          {draft.note && <Detail term="Note">{draft.note}</Detail>}
        </dl>
        <ConfirmMoneyForm
          submission={transfer}
          label={`Send ${formatMoney(draft.amount, draft.currency)}`}
          busyLabel="Sending…"
          onConfirm={confirm}
          onChange={() => (transfer.setProblem(undefined), setDraft(undefined))}
        />
      </section>
    );
  }

  return (
    <section class="card narrow">
      <h1>Send money</h1>
      <form onSubmit={(event) => void review(event)} noValidate>
        <ErrorBanner problem={transfer.problem} />
        <Field
          id="to"
          label="To (@handle or e-mail)"
          hint="You will see their name before anything is sent."
          autocomplete="off"
          value={toText}
          error={errors.to ?? fields.to ?? fields.toEmail}
          onInput={(event) => setToText(event.currentTarget.value)}
        />
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
        <SubmitButton busy={checking} busyLabel="Checking…">
          Review transfer
        </SubmitButton>
      </form>
    </section>
  );
}
