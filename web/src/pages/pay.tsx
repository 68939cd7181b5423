import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, asCurrency, asProblem, type Currency } from '../api/client';
import { lookUpRecipient, searchMerchants, type DirectoryMerchant } from '../components/recipient';
import { ConfirmMoneyForm, Detail, ErrorBanner, explain, Field, SelectField, SubmitButton } from '../components/forms';
import { useMoneySubmission } from '../components/money-form';
import { formatMoney, parseAmount } from '../money';
import { navigate } from '../router';
import { useSession } from '../session';

/** How long the directory waits after the last keystroke before it searches. */
const SEARCH_DELAY_MS = 250;

/** The merchant picker: search the directory by name or handle, or type an @handle. */
function MerchantPicker(props: { text: string; onText: (text: string) => void; chosen: DirectoryMerchant | undefined; onChoose: (merchant: DirectoryMerchant) => void; error?: string }): JSX.Element {
  const [results, setResults] = useState<DirectoryMerchant[]>([]);
  useEffect(() => {
    const query = props.text.trim().replace(/^@/, '');
    if (query.length < 2 || props.chosen) return setResults([]);
    const timer = setTimeout(() => void searchMerchants(query).then(setResults, () => setResults([])), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [props.text, props.chosen]);
  return (
    <div>
      <Field
        id="merchant"
        label="Merchant"
        hint="Search by name, or type the merchant’s @handle."
        autocomplete="off"
        value={props.text}
        error={props.error}
        onInput={(event) => props.onText(event.currentTarget.value)}
      />
      {results.length > 0 && (
        <ul class="choices" aria-label="Merchants found">
          {results.map((merchant) => (
            <li key={merchant.id}>
              <button type="button" onClick={() => props.onChoose(merchant)}>
                {merchant.name}
                {merchant.handle ? ` (@${merchant.handle.replace(/^@/, '')})` : ''}
              </button>
            </li>
          ))}
        </ul>
      )}
      {props.chosen && (
        <p class="small" role="status">
          Paying <strong>{props.chosen.name}</strong>.
        </p>
      )}
    </div>
  );
}

const FAULT_STEPS = ['validate', 'debit_payer', 'credit_merchant', 'write_ledger', 'notify'];

interface PaymentDraft {
  merchantId?: string;
  merchant?: string;
  amount: number;
  currency: Currency;
  description?: string;
  fault: string;
}

/** Pay a merchant: fill in, review, confirm; then watch the saga on the payment's page. */
export function PayPage(): JSX.Element {
  const { wallets, settings } = useSession();
  const currencies = wallets.map((wallet) => wallet.currency);
  const [merchantText, setMerchantText] = useState('');
  const [chosen, setChosen] = useState<DirectoryMerchant | undefined>(undefined);
  const [merchantName, setMerchantName] = useState('');
  const [checking, setChecking] = useState(false);
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

  /** Names the merchant for the confirmation: the directory's choice, an @handle looked up, or an id as it is. */
  const resolveMerchant = async (): Promise<{ reference: Pick<PaymentDraft, 'merchantId' | 'merchant'>; name: string } | string> => {
    const text = merchantText.trim();
    if (chosen) return { reference: { merchantId: chosen.id }, name: chosen.name };
    if (/^usr_\w+$/.test(text)) return { reference: { merchantId: text }, name: text };
    if (!/^@?[A-Za-z0-9_]{3,30}$/.test(text)) return 'Choose a merchant from the search results, or type their @handle.';
    const handle = `@${text.replace(/^@/, '').toLowerCase()}`;
    try {
      const recipient = await lookUpRecipient(handle);
      if (recipient.kind !== 'merchant') return `${handle} is a person, not a merchant: send them money from Send.`;
      return { reference: { merchant: handle }, name: `${recipient.name} (${handle})` };
    } catch (error) {
      const problem = asProblem(error);
      return problem.status === 404 ? `No merchant has the handle ${handle}.` : explain(problem);
    }
  };

  const review = async (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    const amount = parseAmount(amountText, currency);
    if (!amount.ok) found.amount = amount.message;
    setChecking(true);
    const merchant = await resolveMerchant();
    setChecking(false);
    if (typeof merchant === 'string') found.merchant = merchant;
    setErrors(found);
    if (!amount.ok || typeof merchant === 'string') return;
    setMerchantName(merchant.name);
    setDraft({ ...merchant.reference, amount: amount.minorUnits, currency: asCurrency(currency), ...(description.trim() ? { description: description.trim() } : {}), fault });
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
          <dd data-testid="confirm-merchant">{merchantName}</dd>
          <dt>Amount</dt>
          <dd data-testid="confirm-amount">{formatMoney(draft.amount, draft.currency)}</dd>
          <dt>From</dt>
          <dd>Your {draft.currency} wallet</dd>
          {draft.description && <Detail term="Description">{draft.description}</Detail>}
          {draft.fault && <Detail term="Fault drill">the step {draft.fault} will fail</Detail>}
        </dl>
        <ConfirmMoneyForm
          submission={payment}
          label={`Pay ${formatMoney(draft.amount, draft.currency)}`}
          busyLabel="Paying…"
          onConfirm={confirm}
          onChange={() => (payment.setProblem(undefined), setDraft(undefined))}
        />
      </section>
    );
  }

  return (
    <section class="card narrow">
      <h1>Pay a merchant</h1>
      <form onSubmit={(event) => void review(event)} noValidate>
        <ErrorBanner problem={payment.problem} />
        <MerchantPicker
          text={merchantText}
          onText={(text) => (setMerchantText(text), setChosen(undefined))}
          chosen={chosen}
          onChoose={(merchant) => (setChosen(merchant), setMerchantText(merchant.name))}
          error={errors.merchant ?? fields.merchantId ?? fields.merchant}
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
        <SubmitButton busy={checking} busyLabel="Checking…">
          Review payment
        </SubmitButton>
      </form>
    </section>
  );
}
