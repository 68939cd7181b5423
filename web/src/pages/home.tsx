import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, asCurrency, asProblem, unwrap, type ApiProblem, type Currency, type Wallet } from '../api/client';
import { ErrorBanner, Field, SelectField, SubmitButton } from '../components/forms';
import { useMoneySubmission } from '../components/money-form';
import { StatusBadge } from '../components/saga';
import { idempotencyKeyFor, isFinalAnswer, settleIdempotencyKey } from '../idempotency';
import { formatMoney, parseAmount } from '../money';
import { Link } from '../router';
import { useSession } from '../session';

/** How often the page looks for the wallet that onboarding is still creating. */
const ONBOARDING_POLL_MS = 700;
/** How often balances are read again once the wallets exist. */
const BALANCE_POLL_MS = 3_000;

/** Top-up form of one wallet: decimal amount in, integer minor units out, one key per submission. */
function TopUpForm({ wallet, onDone }: { wallet: Wallet; onDone: () => Promise<void> }): JSX.Element {
  const [amountText, setAmountText] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const form = `topup-${wallet.id}`;
  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setProblem(undefined);
    setDone(undefined);
    const amount = parseAmount(amountText, wallet.currency);
    if (!amount.ok) return setFieldError(amount.message);
    setFieldError(undefined);
    const body = { amount: amount.minorUnits, currency: asCurrency(wallet.currency) };
    setBusy(true);
    try {
      const result = await api.POST('/v1/wallets/{id}/topups', {
        params: { path: { id: wallet.id } },
        headers: { 'Idempotency-Key': idempotencyKeyFor(form, body) },
        body,
      });
      if (isFinalAnswer(result.response.status)) settleIdempotencyKey(form);
      const topup = unwrap(result);
      setDone(`Added ${formatMoney(topup.amount, topup.currency)}.`);
      setAmountText('');
      await onDone();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  const id = `topup-amount-${wallet.currency}`;
  return (
    <form class="inline-form" onSubmit={(event) => void submit(event)} noValidate aria-label={`Top up the ${wallet.currency} wallet`}>
      <ErrorBanner problem={problem} />
      <Field
        id={id}
        label={`Top-up amount (${wallet.currency})`}
        inputMode="decimal"
        autocomplete="off"
        placeholder="25.00"
        value={amountText}
        error={fieldError ?? problem?.fields.amount}
        onInput={(event) => setAmountText(event.currentTarget.value)}
      />
      <SubmitButton busy={busy} busyLabel="Topping up…">
        Top up
      </SubmitButton>
      {done && (
        <p class="banner banner-ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}

/** One wallet: balance in its currency's format, status, history link and top-up. */
function WalletCard({ wallet, onChange }: { wallet: Wallet; onChange: () => Promise<void> }): JSX.Element {
  const { held } = wallet;
  return (
    <article class="card wallet" aria-labelledby={`wallet-${wallet.id}`} data-wallet={wallet.currency}>
      <header class="wallet-head">
        <h2 id={`wallet-${wallet.id}`}>{wallet.currency} wallet</h2>
        <StatusBadge status={wallet.status} />
      </header>
      <p class="balance" data-testid={`balance-${wallet.currency}`}>
        {formatMoney(wallet.balance, wallet.currency)}
      </p>
      {held > 0 && <p class="small">{formatMoney(held, wallet.currency)} held until payments in progress finish</p>}
      <p>
        <Link href={`/wallets/${wallet.id}`}>History of the {wallet.currency} wallet</Link>
      </p>
      {wallet.status === 'active' && <TopUpForm wallet={wallet} onDone={onChange} />}
    </article>
  );
}

/** Opens a wallet in a currency the person has none in; idempotent like every money POST. */
function OpenWalletForm({ missing, onDone }: { missing: string[]; onDone: () => Promise<void> }): JSX.Element | null {
  const [currency, setCurrency] = useState(missing[0] ?? '');
  const opening = useMoneySubmission('open-wallet', (body: { currency: Currency }, key: string) => api.POST('/v1/wallets', { body, headers: { 'Idempotency-Key': key } }));
  if (missing.length === 0) return null;
  const selected = missing.includes(currency) ? currency : (missing[0] ?? '');
  const submit = async (event: Event) => {
    event.preventDefault();
    if (await opening.submit({ currency: asCurrency(selected) })) await onDone();
  };
  return (
    <form class="card inline-form" onSubmit={(event) => void submit(event)} aria-label="Open a wallet in another currency">
      <h2>Open a wallet in another currency</h2>
      <ErrorBanner problem={opening.problem} />
      <SelectField id="new-wallet-currency" label="Currency" value={selected} error={opening.problem?.fields.currency} onChange={setCurrency} options={missing.map((code) => ({ value: code, label: code }))} />
      <SubmitButton busy={opening.busy} busyLabel="Opening…">
        Open {selected} wallet
      </SubmitButton>
    </form>
  );
}

/** The signed-in person's wallets. Right after sign-up, waits for onboarding to create the first. */
export function HomePage(): JSX.Element {
  const session = useSession();
  const { wallets, refresh } = session;
  const [waitProblem, setWaitProblem] = useState<ApiProblem | undefined>(undefined);
  // Balances stay current without a reload (payments received, the welcome credit after sign-up).
  useEffect(() => {
    const timer = setTimeout(
      () =>
        void refresh().then(
          () => setWaitProblem(undefined),
          (error: unknown) => setWaitProblem(asProblem(error)),
        ),
      wallets.length === 0 ? ONBOARDING_POLL_MS : BALANCE_POLL_MS,
    );
    return () => clearTimeout(timer);
  }, [wallets, refresh]);
  return (
    <section>
      <h1>Your wallets</h1>
      {wallets.length === 0 ? (
        <p role="status" class="banner">
          Setting up your wallet… this takes a few seconds.
        </p>
      ) : (
        <div class="grid">
          {wallets.map((wallet) => (
            <WalletCard key={wallet.id} wallet={wallet} onChange={refresh} />
          ))}
        </div>
      )}
      <ErrorBanner problem={waitProblem} />
      {wallets.length > 0 && session.user.role !== 'admin' && (
        <OpenWalletForm missing={session.settings.currencies.filter((code) => !wallets.some((wallet) => wallet.currency === code))} onDone={refresh} />
      )}
      {session.user.role === 'customer' && wallets.length > 0 && (
        <p class="actions">
          <Link class="button" href="/pay">
            Pay a merchant
          </Link>
          <Link class="button" href="/send">
            Send money
          </Link>
        </p>
      )}
    </section>
  );
}
