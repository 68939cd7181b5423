import type { JSX } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api, asProblem, setAccessToken, unwrap, whenUnauthorized, type User, type Wallet } from './api/client';
import { AdminPage } from './pages/admin';
import { LoginPage, SignupPage } from './pages/auth';
import { ActivityPage } from './pages/activity';
import { HomePage } from './pages/home';
import { MerchantPage } from './pages/merchant';
import { PayPage } from './pages/pay';
import { SagaPage } from './pages/saga';
import { SendPage } from './pages/send';
import { WalletPage } from './pages/wallet';
import { Link, match, navigate, usePath } from './router';
import { SessionContext, type Session } from './session';
import { readSettings } from './settings';

const PUBLIC_PATHS = ['/login', '/signup'];

/** The pages a signed-in person can open, by path. */
function signedInPage(path: string, user: User): JSX.Element {
  let params: Record<string, string> | undefined;
  if (path === '/' || path === '') return user.role === 'admin' ? <AdminPage /> : user.role === 'merchant' ? <MerchantPage /> : <HomePage />;
  if (path === '/pay') return <PayPage />;
  if (path === '/send') return <SendPage />;
  if (path === '/activity') return <ActivityPage />;
  if (path === '/merchant') return <MerchantPage />;
  if (path === '/admin') return <AdminPage />;
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
      ? [['/admin', 'Admin']]
      : user.role === 'merchant'
        ? [['/merchant', 'Payments in'], ['/wallets', 'Wallets'], ['/activity', 'Activity']]
        : [['/wallets', 'Wallets'], ['/pay', 'Pay'], ['/send', 'Send'], ['/activity', 'Activity']];
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

  const signOut = useCallback(() => {
    setAccessToken(undefined);
    setMe(undefined);
    navigate('/login', { replace: true });
  }, []);
  useEffect(() => whenUnauthorized(signOut), [signOut]);

  const refresh = useCallback(async () => {
    setMe(unwrap(await api.GET('/v1/me')));
  }, []);

  const signedIn = useCallback(
    async (accessToken: string) => {
      setAccessToken(accessToken);
      try {
        await refresh();
      } catch (error) {
        setAccessToken(undefined);
        throw asProblem(error);
      }
      if (PUBLIC_PATHS.includes(location.pathname)) navigate('/', { replace: true });
    },
    [refresh],
  );

  useEffect(() => {
    document.title = me ? `SagaPay · ${me.user.name}` : 'SagaPay wallet';
  }, [me]);

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
