import type { JSX } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, asProblem, endSession, refreshSession, setAccessToken, unwrap, whenUnauthorized, type User, type Wallet } from './api/client';
import { AdminPage } from './pages/admin';
import { LoginPage, SignupPage } from './pages/auth';
import { ActivityPage } from './pages/activity';
import { HomePage } from './pages/home';
import { MerchantPage } from './pages/merchant';
import { PayPage } from './pages/pay';
import { ProfilePage } from './pages/profile';
import { SagaPage } from './pages/saga';
import { SendPage } from './pages/send';
import { WalletPage } from './pages/wallet';
import { Link, match, navigate, usePath } from './router';
import { SessionContext, type Session } from './session';
import { readSettings } from './settings';

const PUBLIC_PATHS = ['/login', '/signup'];
/** The access token is renewed when this fraction of its lifetime has passed. */
const RENEW_AT_FRACTION = 0.8;
const MIN_RENEWAL_MS = 10_000;

/** The pages a signed-in person can open, by path. */
function signedInPage(path: string, user: User): JSX.Element {
  let params: Record<string, string> | undefined;
  if (path === '/' || path === '') return user.role === 'admin' ? <AdminPage /> : user.role === 'merchant' ? <MerchantPage /> : <HomePage />;
  if (path === '/pay') return <PayPage />;
  if (path === '/send') return <SendPage />;
  if (path === '/activity') return <ActivityPage />;
  if (path === '/merchant') return <MerchantPage />;
  if (path === '/admin') return <AdminPage />;
  if (path === '/profile') return <ProfilePage />;
  if (path === '/wallets') return <HomePage />;
  if ((params = match('/wallets/:id', path))) return <WalletPage key={path} walletId={params.id ?? ''} />;
  if ((params = match('/payments/:id', path))) return <SagaPage key={path} kind="payment" id={params.id ?? ''} />;
  if ((params = match('/transfers/:id', path))) return <SagaPage key={path} kind="transfer" id={params.id ?? ''} />;
  if ((params = match('/refunds/:id', path))) return <SagaPage key={path} kind="refund" id={params.id ?? ''} />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing at {path}. <Link href="/">Go to your wallet</Link>.
      </p>
    </section>
  );
}

function Navigation({ user, onSignOut }: { user: User; onSignOut: () => void }): JSX.Element {
  const links: Array<[string, string]> =
    user.role === 'admin'
      ? [['/admin', 'Admin'], ['/profile', 'Profile']]
      : user.role === 'merchant'
        ? [['/merchant', 'Payments in'], ['/wallets', 'Wallets'], ['/activity', 'Activity'], ['/profile', 'Profile']]
        : [['/wallets', 'Wallets'], ['/pay', 'Pay'], ['/send', 'Send'], ['/activity', 'Activity'], ['/profile', 'Profile']];
  return (
    <header class="topbar">
      <Link href="/" class="brand">
        SagaPay
      </Link>
      <nav aria-label="Main">
        <ul>
          {links.map(([href, label]) => (
            <li key={href}>
              <Link href={href}>{label}</Link>
            </li>
          ))}
        </ul>
      </nav>
      <div class="account">
        <span class="who" title={user.email}>
          {user.name}
        </span>
        <button type="button" class="link-button" onClick={onSignOut}>
          Log out
        </button>
      </div>
    </header>
  );
}

/** The whole app: signed out it shows log-in and sign-up; signed in, the person's pages. */
export function App(): JSX.Element {
  const settings = useMemo(readSettings, []);
  const path = usePath();
  const [me, setMe] = useState<{ user: User; wallets: Wallet[] } | undefined>(undefined);
  // Until the refresh cookie has been tried, the page does not know whether someone is signed in.
  const [resuming, setResuming] = useState(true);
  const renewal = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const forget = useCallback(() => {
    clearTimeout(renewal.current);
    setAccessToken(undefined);
    setMe(undefined);
    if (!PUBLIC_PATHS.includes(location.pathname)) navigate('/login', { replace: true });
  }, []);

  const signOut = useCallback(() => {
    void endSession().finally(forget);
  }, [forget]);

  const refresh = useCallback(async () => {
    setMe(unwrap(await api.GET('/v1/me')));
  }, []);

  /** Keeps the short-lived access token fresh: a new one from the refresh cookie well before it expires. */
  const scheduleRenewal = useCallback(
    (expiresInSeconds: number) => {
      clearTimeout(renewal.current);
      const delayMs = Math.max(MIN_RENEWAL_MS, expiresInSeconds * 1000 * RENEW_AT_FRACTION);
      renewal.current = setTimeout(() => {
        void refreshSession().then((renewed) => {
          if (!renewed) return forget();
          setAccessToken(renewed.accessToken);
          scheduleRenewal(renewed.expiresIn);
        });
      }, delayMs);
    },
    [forget],
  );

  const signedIn = useCallback(
    async (accessToken: string, expiresInSeconds: number) => {
      setAccessToken(accessToken);
      try {
        await refresh();
      } catch (error) {
        setAccessToken(undefined);
        throw asProblem(error);
      }
      scheduleRenewal(expiresInSeconds);
      if (PUBLIC_PATHS.includes(location.pathname)) navigate('/', { replace: true });
    },
    [refresh, scheduleRenewal],
  );

  // An expired or revoked token: one try with the refresh cookie, else back to the log-in page.
  useEffect(
    () =>
      whenUnauthorized(() => {
        void refreshSession().then((renewed) => (renewed ? signedIn(renewed.accessToken, renewed.expiresIn).catch(forget) : forget()));
      }),
    [signedIn, forget],
  );

  // A reload keeps the person signed in: the httpOnly refresh cookie buys a new access token.
  useEffect(() => {
    void refreshSession()
      .then((renewed) => (renewed ? signedIn(renewed.accessToken, renewed.expiresIn) : undefined))
      .catch(() => undefined)
      .finally(() => setResuming(false));
    return () => clearTimeout(renewal.current);
  }, [signedIn]);

  useEffect(() => {
    document.title = me ? `SagaPay · ${me.user.name}` : 'SagaPay wallet';
  }, [me]);

  if (!me && resuming) {
    return (
      <div class="shell">
        <main id="main">
          <p role="status">Loading your wallet…</p>
        </main>
      </div>
    );
  }
  if (!me) {
    const page = path === '/signup' ? <SignupPage onSignedIn={signedIn} /> : <LoginPage onSignedIn={signedIn} />;
    return (
      <div class="shell">
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <span class="brand">SagaPay</span>
        </header>
        <main id="main">{page}</main>
      </div>
    );
  }
  const session: Session = { ...me, settings, refresh, signOut };
  return (
    <SessionContext.Provider value={session}>
      <div class="shell">
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <Navigation user={me.user} onSignOut={signOut} />
        <main id="main">{signedInPage(path, me.user)}</main>
      </div>
    </SessionContext.Provider>
  );
}
