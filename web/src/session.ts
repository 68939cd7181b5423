import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { User, Wallet } from './api/client';
import type { Settings } from './settings';

/** The signed-in person, their wallets, and what the pages may ask of the session. */
export interface Session {
  user: User;
  wallets: Wallet[];
  settings: Settings;
  /** Reads /v1/me again (balances after a top-up, a new wallet). */
  refresh: () => Promise<void>;
  signOut: () => void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

/** The session of a signed-in page. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
