import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, asProblem, unwrap, type ApiProblem, type Schemas, type Wallet } from '../api/client';
import { ErrorBanner, Field, SubmitButton } from '../components/forms';
import { ListFooter, usePagedList } from '../components/paged-list';
import { StatusBadge } from '../components/saga';
import { formatMoney, formatTime } from '../money';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import { temporalWorkflowUrl } from '../settings';

type Reconciliation = Schemas['Reconciliation'];

/** Each invariant the reconciliation checks, in words, with whether it holds. */
function invariants(report: Reconciliation): Array<{ name: string; holds: boolean; detail: string }> {
  const extra = report as Reconciliation & { clearingMismatch?: unknown[]; heldMismatch?: unknown[]; offendingSagas?: unknown[] };
  const list = [
    { name: 'All accounts sum to zero', holds: report.sumOfAllAccounts === 0, detail: `sum ${report.sumOfAllAccounts}` },
    { name: 'Every journal balances', holds: report.unbalancedJournals === 0, detail: `${report.unbalancedJournals} unbalanced` },
    { name: 'Every balance equals the sum of its entries', holds: report.walletsOutOfSync === 0, detail: `${report.walletsOutOfSync} out of sync` },
    { name: 'No user wallet is negative', holds: report.negativeUserWallets === 0, detail: `${report.negativeUserWallets} negative` },
    { name: 'No saga is stuck', holds: report.stuckSagas === 0, detail: `${report.stuckSagas} stuck` },
  ];
  if (extra.clearingMismatch) list.push({ name: 'Clearing holds exactly the money of sagas in flight', holds: extra.clearingMismatch.length === 0, detail: `${extra.clearingMismatch.length} currencies off` });
  if (extra.heldMismatch) list.push({ name: 'Held money matches unreleased saga credits', holds: extra.heldMismatch.length === 0, detail: `${extra.heldMismatch.length} wallets off` });
  if (extra.offendingSagas) list.push({ name: 'No saga contradicts its money in clearing', holds: extra.offendingSagas.length === 0, detail: `${extra.offendingSagas.length} sagas` });
  return list;
}

function ReconciliationPanel(): JSX.Element {
  const [report, setReport] = useState<Reconciliation | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const run = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      setReport(unwrap(await api.GET('/v1/admin/reconciliation')));
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="reconciliation-title">
      <h2 id="reconciliation-title">Reconciliation</h2>
      <form onSubmit={(event) => void run(event)}>
        <SubmitButton busy={busy} busyLabel="Checking the ledger…">
          Run reconciliation
        </SubmitButton>
      </form>
      <ErrorBanner problem={problem} />
      {report && (
        <div role="status">
          <p class={`banner ${report.ok ? 'banner-ok' : 'banner-error'}`} data-testid="reconciliation-result">
            {report.ok ? 'All invariants hold.' : 'Some invariants do not hold.'}
          </p>
          <ul class="invariants">
            {invariants(report).map((check) => (
              <li key={check.name} data-holds={String(check.holds)}>
                <span aria-hidden="true">{check.holds ? '✓' : '✗'}</span> {check.name}: <strong>{check.holds ? 'holds' : 'broken'}</strong> <span class="small">({check.detail})</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function FreezePanel(): JSX.Element {
  const [walletId, setWalletId] = useState('');
  const [wallet, setWallet] = useState<Wallet | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const act = async (action: 'freeze' | 'unfreeze') => {
    setBusy(true);
    setProblem(undefined);
    try {
      const path = action === 'freeze' ? '/v1/admin/wallets/{id}/freeze' : '/v1/admin/wallets/{id}/unfreeze';
      setWallet(unwrap(await api.POST(path, { params: { path: { id: walletId.trim() } } })));
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  const find = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      setWallet(unwrap(await api.GET('/v1/wallets/{id}', { params: { path: { id: walletId.trim() } } })));
    } catch (error) {
      setWallet(undefined);
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="freeze-title">
      <h2 id="freeze-title">Freeze or unfreeze a wallet</h2>
      <form onSubmit={(event) => void find(event)} noValidate>
        <ErrorBanner problem={problem} />
        <Field id="admin-wallet-id" label="Wallet id" placeholder="wal_…" value={walletId} onInput={(event) => setWalletId(event.currentTarget.value)} />
        <SubmitButton busy={busy}>Find wallet</SubmitButton>
      </form>
      {wallet && (
        <div class="wallet-admin">
          <p>
            {wallet.id} of {wallet.userId}: {formatMoney(wallet.balance, wallet.currency)} <StatusBadge status={wallet.status} /> <span class="small">since {formatTime(wallet.createdAt)}</span>
          </p>
          {wallet.status === 'active' ? (
            <button type="button" class="danger" disabled={busy} onClick={() => void act('freeze')}>
              Freeze this wallet
            </button>
          ) : (
            <button type="button" disabled={busy} onClick={() => void act('unfreeze')}>
              Unfreeze this wallet
            </button>
          )}
        </div>
      )}
    </section>
  );
}

type UserWithWallets = Schemas['UserWithWallets'];

/** Finds users by e-mail or name; freezes and unfreezes their wallets from the results. */
function UserSearch(): JSX.Element {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<UserWithWallets[] | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const search = async (event?: Event) => {
    event?.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      setResults(unwrap(await api.GET('/v1/admin/users', { params: { query: { query: query.trim(), limit: 20 } } })).data);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  const act = async (walletId: string, action: 'freeze' | 'unfreeze') => {
    setProblem(undefined);
    try {
      const path = action === 'freeze' ? '/v1/admin/wallets/{id}/freeze' : '/v1/admin/wallets/{id}/unfreeze';
      unwrap(await api.POST(path, { params: { path: { id: walletId } } }));
      await search();
    } catch (error) {
      setProblem(asProblem(error));
    }
  };
  return (
    <section class="card" aria-labelledby="users-title">
      <h2 id="users-title">Find a user</h2>
      <form onSubmit={(event) => void search(event)} noValidate>
        <ErrorBanner problem={problem} />
        <Field id="user-query" label="E-mail or name" autocomplete="off" value={query} error={problem?.fields.query} onInput={(event) => setQuery(event.currentTarget.value)} />
        <SubmitButton busy={busy}>Search users</SubmitButton>
      </form>
      {results && results.length === 0 && <p>No user matches.</p>}
      <ul class="feed" aria-label="Users found">
        {(results ?? []).map(({ user, wallets }) => (
          <li key={user.id} data-user={user.id}>
            <strong>{user.name}</strong> {user.email} <span class="small">({user.role})</span>
            <ul>
              {wallets.map((wallet) => (
                <li key={wallet.id}>
                  {wallet.currency} {formatMoney(wallet.balance, wallet.currency)} <StatusBadge status={wallet.status} />{' '}
                  <button type="button" class={wallet.status === 'active' ? 'danger' : ''} onClick={() => void act(wallet.id, wallet.status === 'active' ? 'freeze' : 'unfreeze')}>
                    {wallet.status === 'active' ? 'Freeze' : 'Unfreeze'} {wallet.currency} wallet of {user.name}
                  </button>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Opens a saga: its page here (payments, transfers, refunds by id) or the Temporal Web UI by workflow id. */
function SagaLookup(): JSX.Element {
  const { settings } = useSession();
  const [id, setId] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const trimmed = id.trim();
  const workflowId = /^(pay|trf|ref)_/.test(trimmed) ? `${{ pay: 'payment', trf: 'transfer', ref: 'refund' }[trimmed.slice(0, 3)]}-${trimmed}` : trimmed;
  const open = (event: Event) => {
    event.preventDefault();
    const prefix = trimmed.slice(0, 4);
    const page = { pay_: 'payments', trf_: 'transfers', ref_: 'refunds' }[prefix];
    if (!page) return setError('Enter a payment (pay_…), transfer (trf_…) or refund (ref_…) id.');
    setError(undefined);
    navigate(`/${page}/${trimmed}`);
  };
  return (
    <section class="card" aria-labelledby="saga-title">
      <h2 id="saga-title">Find a saga</h2>
      <form onSubmit={open} noValidate>
        <Field id="saga-id" label="Payment, transfer or refund id, or a workflow id" placeholder="pay_…" value={id} error={error} onInput={(event) => setId(event.currentTarget.value)} />
        <div class="actions">
          <SubmitButton busy={false}>Open its page</SubmitButton>
          {trimmed && (
            <a class="button" href={temporalWorkflowUrl(settings, workflowId)} target="_blank" rel="noopener noreferrer">
              Open {workflowId} in the Temporal Web UI
            </a>
          )}
        </div>
      </form>
    </section>
  );
}

/** The payments waiting for an admin's risk review, newest first; each opens on its page, where it is decided. */
function ReviewQueue(): JSX.Element {
  const list = usePagedList(
    async (cursor) => unwrap(await api.GET('/v1/payments', { params: { query: { status: 'in_review', limit: 20, ...(cursor ? { startingAfter: cursor } : {}) } } })),
    'payments in review',
  );
  return (
    <section class="card" aria-labelledby="review-title">
      <h2 id="review-title">Payments in review</h2>
      <ul class="feed" aria-label="Payments in review">
        {list.items.map((payment) => (
          <li key={payment.id}>
            <Link href={`/payments/${payment.id}`}>
              {formatMoney(payment.amount, payment.currency)} · {payment.id}
            </Link>{' '}
            <span class="small">{formatTime(payment.createdAt)}</span>
          </li>
        ))}
      </ul>
      <ListFooter {...list} empty={list.items.length === 0} emptyText="No payment waits for a review." label="payments in review" />
    </section>
  );
}

/** The admin's console: reconciliation, users and their wallets, the review queue, sagas (a payment in review is decided on its page). */
export function AdminPage(): JSX.Element {
  return (
    <section>
      <h1>Admin</h1>
      <ReconciliationPanel />
      <UserSearch />
      <ReviewQueue />
      <SagaLookup />
      <FreezePanel />
    </section>
  );
}
