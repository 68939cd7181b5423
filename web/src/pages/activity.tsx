import type { JSX } from 'preact';
import { api, unwrap, type Payment } from '../api/client';
import { ListFooter, usePagedList } from '../components/paged-list';
import { StatusBadge } from '../components/saga';
import { formatMoney, formatTime } from '../money';
import { Link } from '../router';
import { useSession } from '../session';

const PAGE_SIZE = 10;

/** A list of payments, as payer or as merchant. */
export function PaymentsList({ role, title }: { role: 'payer' | 'merchant'; title: string }): JSX.Element {
  const list = usePagedList(
    async (cursor) => unwrap(await api.GET('/v1/payments', { params: { query: { role, limit: PAGE_SIZE, ...(cursor ? { startingAfter: cursor } : {}) } } })),
    `payments-${role}`,
  );
  return (
    <section aria-labelledby={`payments-${role}`}>
      <h2 id={`payments-${role}`}>{title}</h2>
      <table class="list" aria-label={title}>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Payment</th>
            <th scope="col">Status</th>
            <th scope="col" class="number">
              Amount
            </th>
            {role === 'merchant' && (
              <>
                <th scope="col" class="number">
                  Fee
                </th>
                <th scope="col" class="number">
                  Net
                </th>
                <th scope="col" class="number">
                  Refunded
                </th>
              </>
            )}
          </tr>
        </thead>
        <tbody>
          {list.items.map((payment: Payment) => (
            <tr key={payment.id} data-payment={payment.id}>
              <td>{formatTime(payment.createdAt)}</td>
              <td>
                <Link href={`/payments/${payment.id}`}>{payment.description ?? payment.id}</Link>
              </td>
              <td>
                <StatusBadge status={payment.status} />
              </td>
              <td class="number">{formatMoney(payment.amount, payment.currency)}</td>
              {role === 'merchant' && (
                <>
                  <td class="number">{formatMoney(payment.fee, payment.currency)}</td>
                  <td class="number">{formatMoney(payment.netAmount, payment.currency)}</td>
                  <td class="number">{formatMoney(payment.refundedAmount, payment.currency)}</td>
                </>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <ListFooter {...list} empty={list.items.length === 0} emptyText="No payments yet." label="payments" />
    </section>
  );
}

function TransfersList(): JSX.Element {
  const list = usePagedList(
    async (cursor) => unwrap(await api.GET('/v1/transfers', { params: { query: { limit: PAGE_SIZE, ...(cursor ? { startingAfter: cursor } : {}) } } })),
    'transfers',
  );
  const { wallets } = useSession();
  const mine = new Set(wallets.map((wallet) => wallet.id));
  return (
    <section aria-labelledby="transfers-title">
      <h2 id="transfers-title">Transfers</h2>
      <ul class="feed">
        {list.items.map((transfer) => (
          <li key={transfer.id}>
            <Link href={`/transfers/${transfer.id}`}>
              {mine.has(transfer.fromWalletId) ? 'Sent' : 'Received'} {formatMoney(transfer.amount, transfer.currency)}
            </Link>{' '}
            <StatusBadge status={transfer.status} /> <span class="small">{formatTime(transfer.createdAt)}</span>
          </li>
        ))}
      </ul>
      <ListFooter {...list} empty={list.items.length === 0} emptyText="No transfers yet." label="transfers" />
    </section>
  );
}

/** The notification feed (in-app channel), newest first, kept current. */
export function NotificationsFeed(): JSX.Element {
  const list = usePagedList(
    async (cursor) => unwrap(await api.GET('/v1/notifications', { params: { query: { channel: 'in_app', limit: PAGE_SIZE, ...(cursor ? { startingAfter: cursor } : {}) } } })),
    'notifications',
  );
  return (
    <section aria-labelledby="notifications-title">
      <h2 id="notifications-title">Notifications</h2>
      <ul class="feed" aria-live="polite">
        {list.items.map((notification) => (
          <li key={notification.id} data-type={notification.type}>
            <strong>{notification.title}</strong> <span class="small">{formatTime(notification.createdAt)}</span>
            <p>{notification.body}</p>
          </li>
        ))}
      </ul>
      <ListFooter {...list} empty={list.items.length === 0} emptyText="Nothing yet." label="notifications" />
    </section>
  );
}

/** Everything that happened to the person's money, updating without a reload. */
export function ActivityPage(): JSX.Element {
  const { user } = useSession();
  return (
    <div class="columns">
      <div>
        <h1>Activity</h1>
        <PaymentsList role={user.role === 'merchant' ? 'merchant' : 'payer'} title={user.role === 'merchant' ? 'Payments received' : 'Payments'} />
        <TransfersList />
      </div>
      <NotificationsFeed />
    </div>
  );
}
