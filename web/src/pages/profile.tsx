import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, asProblem, unwrap, type ApiProblem, type Schemas } from '../api/client';
import { ErrorBanner, Field, SubmitButton } from '../components/forms';
import { usePolling } from '../hooks';
import { formatTime } from '../money';
import { useSession } from '../session';

/** Runs one form action with busy, error and done states. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const run = async (action: () => Promise<string>) => {
    setBusy(true);
    setProblem(undefined);
    setDone(undefined);
    try {
      setDone(await action());
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return { busy, problem, done, run };
}

function Done({ text }: { text: string | undefined }): JSX.Element | null {
  return text ? (
    <p class="banner banner-ok" role="status">
      {text}
    </p>
  ) : null;
}

function ProfileForm(): JSX.Element {
  const { user, refresh } = useSession();
  const [name, setName] = useState(user.name);
  const [phone, setPhone] = useState(user.phone ?? '');
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      unwrap(await api.PATCH('/v1/me', { body: { name: name.trim(), phone: phone.trim() === '' ? null : phone.trim() } }));
      await refresh();
      return 'Profile saved.';
    });
  };
  return (
    <section class="card" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBanner problem={action.problem} />
        <Field id="profile-name" label="Name" autocomplete="name" value={name} error={action.problem?.fields.name} onInput={(event) => setName(event.currentTarget.value)} />
        <Field
          id="profile-phone"
          label="Phone (optional)"
          type="tel"
          autocomplete="tel"
          hint="In international form, such as +4915112345678."
          value={phone}
          error={action.problem?.fields.phone}
          onInput={(event) => setPhone(event.currentTarget.value)}
        />
        <p class="small">E-mail: {user.email}</p>
        <SubmitButton busy={action.busy}>Save profile</SubmitButton>
        <Done text={action.done} />
      </form>
    </section>
  );
}

function PasswordForm(): JSX.Element {
  const { signOut } = useSession();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      unwrap(await api.POST('/v1/me/password', { body: { currentPassword, newPassword } }));
      // Every session of the account ended with the change: log in again with the new password.
      signOut();
      return 'Password changed.';
    });
  };
  return (
    <section class="card" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBanner problem={action.problem} />
        <Field id="current-password" label="Current password" type="password" autocomplete="current-password" value={currentPassword} error={action.problem?.fields.currentPassword} onInput={(event) => setCurrent(event.currentTarget.value)} />
        <Field
          id="new-password"
          label="New password"
          type="password"
          autocomplete="new-password"
          hint="8 to 128 characters. Every device is signed out after the change."
          value={newPassword}
          error={action.problem?.fields.newPassword}
          onInput={(event) => setNew(event.currentTarget.value)}
        />
        <SubmitButton busy={action.busy}>Change password</SubmitButton>
      </form>
    </section>
  );
}

type Alias = Schemas['Alias'];

function HandlesForm(): JSX.Element {
  const [alias, setAlias] = useState('');
  const action = useAction();
  const { value: page, reload } = usePolling(async () => unwrap(await api.GET('/v1/me/aliases')), []);
  const aliases: Alias[] = page?.data ?? [];
  const claim = (event: Event) => {
    event.preventDefault();
    const handle = `@${alias.trim().replace(/^@/, '')}`;
    void action.run(async () => {
      unwrap(await api.POST('/v1/me/aliases', { body: { alias: handle } }));
      setAlias('');
      reload();
      return `${handle.toLowerCase()} is yours.`;
    });
  };
  const release = (handle: string) =>
    void action.run(async () => {
      const result = await api.DELETE('/v1/me/aliases/{alias}', { params: { path: { alias: handle } } });
      if (!result.response.ok) unwrap(result);
      reload();
      return `${handle} released.`;
    });
  return (
    <section class="card" aria-labelledby="handles-title">
      <h2 id="handles-title">Handles</h2>
      <p class="small">People pay or send you money by @handle instead of your e-mail.</p>
      <ul class="feed">
        {aliases.map((entry) => (
          <li key={entry.alias}>
            <strong>{entry.alias}</strong> <span class="small">since {formatTime(entry.createdAt)}</span>{' '}
            <button type="button" class="link-button" onClick={() => release(entry.alias)} aria-label={`Release ${entry.alias}`}>
              Release
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={claim} noValidate>
        <ErrorBanner problem={action.problem} />
        <Field id="new-handle" label="New handle" hint="3 to 30 letters, digits or _." placeholder="@ada" autocomplete="off" value={alias} error={action.problem?.fields.alias} onInput={(event) => setAlias(event.currentTarget.value)} />
        <SubmitButton busy={action.busy}>Claim handle</SubmitButton>
        <Done text={action.done} />
      </form>
    </section>
  );
}

/** The person's profile, password and handles. */
export function ProfilePage(): JSX.Element {
  const { user } = useSession();
  return (
    <section>
      <h1>Your profile</h1>
      <ProfileForm />
      {user.role !== 'admin' && <HandlesForm />}
      <PasswordForm />
    </section>
  );
}
