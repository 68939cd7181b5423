import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, asProblem, unwrap, type ApiProblem } from '../api/client';
import { ErrorBanner, Field, SubmitButton } from '../components/forms';
import { ListFooter, usePagedList } from '../components/paged-list';
import { formatTime } from '../money';
import { useSession } from '../session';
import { PaymentsList } from './activity';

/** Sets the webhook URL; the secret is shown this once, with a warning. */
function WebhookForm(): JSX.Element {
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const [secret, setSecret] = useState<{ url: string; secret: string } | undefined>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      setSecret(unwrap(await api.PUT('/v1/merchant/webhook', { body: { url: url.trim() } })));
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="webhook-title">
      <h2 id="webhook-title">Webhook</h2>
      <p class="small">Every payment.succeeded, payment.failed, refund.succeeded and refund.failed event is POSTed here, signed with the secret.</p>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <ErrorBanner problem={problem} />
        <Field id="webhook-url" label="Webhook URL" type="url" placeholder="https://shop.example.com/sagapay" value={url} error={problem?.fields.url} onInput={(event) => setUrl(event.currentTarget.value)} />
        <SubmitButton busy={busy} busyLabel="Saving…">
          Save and get a new secret
        </SubmitButton>
      </form>
      {secret && (
        <div class="banner banner-warning" role="status">
          <p>
            Webhooks now go to <strong>{secret.url}</strong>. Your signing secret, shown only this once (saving again replaces it):
          </p>
          <p>
            <code class="secret" data-testid="webhook-secret">
              {secret.secret}
            </code>
          </p>
        </div>
      )}
    </section>
  );
}

function DeliveriesLog(): JSX.Element {
  const list = usePagedList(
    async (cursor) => unwrap(await api.GET('/v1/merchant/webhook/deliveries', { params: { query: { limit: 20, ...(cursor ? { startingAfter: cursor } : {}) } } })),
    'deliveries',
  );
  return (
    <section aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Webhook deliveries</h2>
      <table class="list" aria-label="Webhook deliveries">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Answer</th>
            <th scope="col" class="number">
              Attempt
            </th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((delivery) => (
            <tr key={delivery.id}>
              <td>{formatTime(delivery.createdAt)}</td>
              <td>{delivery.eventType}</td>
              <td>{delivery.status}</td>
              <td>{delivery.responseStatus ?? '—'}</td>
              <td class="number">{delivery.attempt}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListFooter {...list} empty={list.items.length === 0} emptyText="No deliveries yet." label="deliveries" />
    </section>
  );
}

/** A merchant's page: the payments received with their fees (open one to refund it), the webhook and its log. */
export function MerchantPage(): JSX.Element {
  const { user } = useSession();
  return (
    <section>
      <h1>Payments in</h1>
      <p>
        Customers pay you with your merchant id <code data-testid="merchant-id">{user.id}</code>. Open a payment to refund it fully or in part.
      </p>
      <PaymentsList role="merchant" title="Payments received" />
      <WebhookForm />
      <DeliveriesLog />
    </section>
  );
}
