import type { JSX } from 'preact';
import { api, unwrap } from '../api/client';
import { ListFooter, usePagedList } from '../components/paged-list';
import { StatusBadge } from '../components/saga';
import { formatMoney, formatTime } from '../money';
import { Link } from '../router';
import { useSession } from '../session';

const PAGE_SIZE = 20;

const TYPE_WORDS: Record<string, string> = {
  promo_credit: 'Welcome credit',
  topup: 'Top-up',
  payment_debit: 'Payment',
  payment_credit: 'Payment received',
  payment_refund: 'Refund',
  fee: 'Fee',
  transfer_in: 'Money received',
  transfer_out: 'Money sent',
  reversal: 'Reversal',
};

/** Where a ledger entry's reference leads in the app. */
function referenceLink(referenceId: string): string | undefined {
  if (referenceId.startsWith('pay_')) return `/payments/${referenceId}`;
  if (referenceId.startsWith('trf_')) return `/transfers/${referenceId}`;
  if (referenceId.startsWith('ref_')) return `/refunds/${referenceId}`;
  return undefined;
}

/** One wallet's ledger entries, newest first, paginated and kept current. */
export function WalletPage({ walletId }: { walletId: string }): JSX.Element {
  const { wallets } = useSession();
  const wallet = wallets.find((candidate) => candidate.id === walletId);
  const list = usePagedList(
    async (cursor) =>
      unwrap(await api.GET('/v1/wallets/{id}/transactions', { params: { path: { id: walletId }, query: { limit: PAGE_SIZE, ...(cursor ? { startingAfter: cursor } : {}) } } })),
    walletId,
  );
  const currency = wallet?.currency ?? 'USD';
  return (
    <section>
      <h1>{wallet ? `${wallet.currency} wallet` : 'Wallet'} history</h1>
      {wallet && (
        <p>
          Balance <strong>{formatMoney(wallet.balance, wallet.currency)}</strong> <StatusBadge status={wallet.status} />
        </p>
      )}
      <table class="list" aria-label="Wallet history">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What</th>
            <th scope="col" class="number">
              Amount
            </th>
            <th scope="col" class="number">
              Balance after
            </th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((entry) => {
            const href = referenceLink(entry.referenceId);
            return (
              <tr key={entry.id} data-type={entry.type}>
                <td>{formatTime(entry.createdAt)}</td>
                <td>{href ? <Link href={href}>{TYPE_WORDS[entry.type] ?? entry.type}</Link> : (TYPE_WORDS[entry.type] ?? entry.type)}</td>
                <td class={`number ${entry.amount < 0 ? 'debit' : 'credit'}`}>{formatMoney(entry.amount, currency, { signed: true })}</td>
                <td class="number">{formatMoney(entry.balanceAfter, currency)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <ListFooter {...list} empty={list.items.length === 0} emptyText="No entries yet." label="entries" />
    </section>
  );
}
