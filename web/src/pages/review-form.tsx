import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, asProblem, unwrap, type ApiProblem } from '../api/client';
import { ErrorBanner } from '../components/forms';

/** An admin's decision on a payment held for risk review: approve (the debit then checks funds again) or decline. */
export function ReviewForm({ paymentId, onDone }: { paymentId: string; onDone: () => void }): JSX.Element {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const decide = async (decision: 'approve' | 'decline') => {
    setBusy(true);
    setProblem(undefined);
    try {
      unwrap(await api.POST('/v1/admin/payments/{id}/review', { params: { path: { id: paymentId } }, body: { decision } }));
      onDone();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="banner banner-warning" aria-labelledby="review-title">
      <h2 id="review-title">Held for risk review</h2>
      <p>This payment waits for an admin’s decision; no money has moved yet.</p>
      <ErrorBanner problem={problem} />
      <div class="actions">
        <button type="button" class="primary" disabled={busy} onClick={() => void decide('approve')}>
          Approve payment
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => void decide('decline')}>
          Decline payment
        </button>
      </div>
    </section>
  );
}
