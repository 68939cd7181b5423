import type { ComponentChildren, InputHTMLAttributes, JSX } from 'preact';
import type { ApiProblem } from '../api/client';

/** A labelled input with its error in words right under it, tied to it for screen readers. */
export function Field(props: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children?: ComponentChildren;
} & InputHTMLAttributes<HTMLInputElement>): JSX.Element {
  const { id, label, error, hint, children, ...input } = props;
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children ?? <input id={id} name={id} aria-invalid={error ? 'true' : undefined} aria-describedby={described} {...input} />}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A labelled select, same layout as Field. */
export function SelectField(props: { id: string; label: string; error?: string; value: string; onChange: (value: string) => void; options: Array<{ value: string; label: string }> }): JSX.Element {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        name={props.id}
        value={props.value}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? `${props.id}-error` : undefined}
        onChange={(event) => props.onChange(event.currentTarget.value)}
      >
        {props.options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {props.error && (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** Words for the error codes a person may meet; the server's message otherwise. */
const EXPLAINED: Record<string, string> = {
  invalid_credentials: 'That e-mail and password do not match an account.',
  email_taken: 'An account with this e-mail already exists. Log in instead.',
  merchant_not_found: 'No merchant has that id or handle.',
  wallet_not_found: 'That wallet does not exist or is not yours.',
  not_found: 'Nothing was found there.',
  currency_mismatch: 'There is no wallet in that currency on one of the two sides.',
  self_payment: 'You cannot pay or send money to yourself.',
  wallet_frozen: 'This wallet is frozen. Contact support.',
  recipient_is_merchant: 'That recipient is a merchant: pay merchants from the Pay page.',
  idempotency_key_reused: 'This submission was already used for different details. Please submit again.',
  refund_exceeds_payment: 'The refund is more than what is left of the payment.',
  payment_not_refundable: 'This payment cannot be refunded (it did not succeed).',
  rate_limited: 'Too many attempts. Wait a moment and try again.',
  forbidden: 'Your account may not do this.',
  network_error: 'The server could not be reached. Check your connection and try again; nothing is sent twice.',
  internal_error: 'Something went wrong on our side. Try again; nothing is sent twice.',
};

/** A problem in words, for an alert. */
export function explain(problem: ApiProblem): string {
  return EXPLAINED[problem.code] ?? problem.message;
}

/** The form-level error: announced to screen readers as it appears. */
export function ErrorBanner({ problem }: { problem: ApiProblem | undefined }): JSX.Element | null {
  if (!problem) return null;
  const fieldCount = Object.keys(problem.fields).length;
  return (
    <div class="banner banner-error" role="alert">
      <p>{fieldCount > 0 ? 'Please correct the highlighted fields.' : explain(problem)}</p>
      {problem.requestId && <p class="small">Reference: {problem.requestId}</p>}
    </div>
  );
}

/** A button that shows it is working and cannot be pressed twice meanwhile. */
export function SubmitButton({ busy, children, busyLabel }: { busy: boolean; children: ComponentChildren; busyLabel?: string }): JSX.Element {
  return (
    <button type="submit" class="primary" disabled={busy} aria-busy={busy ? 'true' : undefined}>
      {busy ? (busyLabel ?? 'Working…') : children}
    </button>
  );
}

/** One term of a confirmation's description list; render it only when it has something to say. */
export function Detail({ term, children }: { term: string; children: ComponentChildren }): JSX.Element {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

/**
 * The confirmation step of a money form: the error of the last attempt, the button that moves the
 * money (`label` once, `busyLabel` while it is sent), and "Change", which goes back to the form.
 */
export function ConfirmMoneyForm({
  submission,
  label,
  busyLabel,
  onConfirm,
  onChange,
}: {
  submission: { busy: boolean; problem: ApiProblem | undefined };
  label: ComponentChildren;
  busyLabel: string;
  onConfirm: (event: Event) => Promise<void>;
  onChange: () => void;
}): JSX.Element {
  return (
    <form onSubmit={(event) => void onConfirm(event)}>
      <ErrorBanner problem={submission.problem} />
      <div class="actions">
        <SubmitButton busy={submission.busy} busyLabel={busyLabel}>
          {label}
        </SubmitButton>
        <button type="button" onClick={onChange} disabled={submission.busy}>
          Change
        </button>
      </div>
    </form>
  );
}
