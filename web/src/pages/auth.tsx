import type { JSX, TargetedEvent } from 'preact';
import { useState } from 'preact/hooks';
import { api, asCurrency, asProblem, unwrap, type ApiProblem } from '../api/client';
import { ErrorBanner, Field, SelectField, SubmitButton } from '../components/forms';
import { Link } from '../router';
import { readSettings } from '../settings';

type SignedIn = (accessToken: string, expiresInSeconds: number) => Promise<void>;

/** Logs in; the answer also sets the httpOnly refresh cookie that keeps the session across reloads. */
async function logIn(email: string, password: string): Promise<{ accessToken: string; expiresIn: number }> {
  return unwrap(await api.POST('/v1/auth/login', { body: { email, password } }));
}

/** Log-in form. */
export function LoginPage({ onSignedIn }: { onSignedIn: SignedIn }): JSX.Element {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      const { accessToken, expiresIn } = await logIn(email, password);
      await onSignedIn(accessToken, expiresIn);
    } catch (error) {
      setProblem(asProblem(error));
      setBusy(false);
    }
  };
  return (
    <section class="card narrow">
      <h1>Log in</h1>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <ErrorBanner problem={problem} />
        <Field id="email" label="E-mail" type="email" autocomplete="username" required value={email} error={problem?.fields.email} onInput={(event) => setEmail(event.currentTarget.value)} />
        <Field
          id="password"
          label="Password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          error={problem?.fields.password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <SubmitButton busy={busy} busyLabel="Logging in…">
          Log in
        </SubmitButton>
      </form>
      <p>
        New here? <Link href="/signup">Create an account</Link>
      </p>
    </section>
  );
}

/** Sign-up form: registers, then logs in with the same credentials. */
export function SignupPage({ onSignedIn }: { onSignedIn: SignedIn }): JSX.Element {
  const { currencies } = readSettings();
  const [form, setForm] = useState({ name: '', email: '', password: '', role: 'customer' as 'customer' | 'merchant', currency: currencies[0] ?? 'USD' });
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const set = (field: keyof typeof form) => (event: TargetedEvent<HTMLInputElement>) => setForm({ ...form, [field]: event.currentTarget.value });
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      unwrap(await api.POST('/v1/auth/register', { body: { ...form, currency: asCurrency(form.currency) } }));
      const { accessToken, expiresIn } = await logIn(form.email, form.password);
      await onSignedIn(accessToken, expiresIn);
    } catch (error) {
      setProblem(asProblem(error));
      setBusy(false);
    }
  };
  return (
    <section class="card narrow">
      <h1>Create your account</h1>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <ErrorBanner problem={problem} />
        <Field id="name" label="Your name" autocomplete="name" required value={form.name} error={problem?.fields.name} onInput={set('name')} />
        <Field id="email" label="E-mail" type="email" autocomplete="email" required value={form.email} error={problem?.fields.email} onInput={set('email')} />
        <Field
          id="password"
          label="Password"
          type="password"
          autocomplete="new-password"
          hint="8 to 128 characters."
          required
          value={form.password}
          error={problem?.fields.password}
          onInput={set('password')}
        />
        <SelectField
          id="role"
          label="Account type"
          value={form.role}
          error={problem?.fields.role}
          onChange={(role) => setForm({ ...form, role: role === 'merchant' ? 'merchant' : 'customer' })}
          options={[
            { value: 'customer', label: 'Personal (pay and send money)' },
            { value: 'merchant', label: 'Merchant (accept payments)' },
          ]}
        />
        <SelectField
          id="currency"
          label="Wallet currency"
          value={form.currency}
          error={problem?.fields.currency}
          onChange={(currency) => setForm({ ...form, currency })}
          options={currencies.map((code) => ({ value: code, label: code }))}
        />
        <SubmitButton busy={busy} busyLabel="Creating your account…">
          Create account
        </SubmitButton>
      </form>
      <p>
        Already have an account? <Link href="/login">Log in</Link>
      </p>
    </section>
  );
}
