/**
 * Aliases (`@handle`): what a handle may look like, which ones nobody may claim, and how many one
 * person may hold. Pure, so the API, the store and the tests share one definition.
 */

/** A handle without its `@`: 3 to 30 of lower-case letters, digits and `_`. */
export const ALIAS_PATTERN = /^[a-z0-9_]{3,30}$/;

/** How many aliases one user may hold at once: it bounds `GET /v1/me/aliases` and squatting. */
export const MAX_ALIASES_PER_USER = 5;

/**
 * Handles nobody may claim: they would read as the platform speaking (support, billing, security)
 * or collide with words of the API and the web page.
 */
export const RESERVED_ALIASES: ReadonlySet<string> = new Set([
  'admin',
  'administrator',
  'support',
  'sagapay',
  'root',
  'system',
  'help',
  'helpdesk',
  'security',
  'billing',
  'merchant',
  'merchants',
  'payment',
  'payments',
  'transfer',
  'transfers',
  'refund',
  'refunds',
  'wallet',
  'wallets',
  'api',
  'www',
  'staff',
  'official',
  'abuse',
  'postmaster',
  'noreply',
  'no_reply',
  'info',
  'contact',
  'team',
  'null',
  'undefined',
]);

/** Why a handle cannot be claimed, or null when it can. */
export type AliasProblem = 'format' | 'reserved' | null;

/** The canonical form of a handle as typed: trimmed, one leading `@` dropped, lower-cased. */
export function normaliseAlias(input: string): string {
  const trimmed = input.trim();
  return (trimmed.startsWith('@') ? trimmed.slice(1) : trimmed).toLowerCase();
}

/** Whether a normalised handle is well-formed; a reserved word or anything naming the platform is `reserved`. */
export function aliasProblem(alias: string): AliasProblem {
  if (!ALIAS_PATTERN.test(alias)) return 'format';
  if (RESERVED_ALIASES.has(alias) || alias.includes('sagapay')) return 'reserved';
  return null;
}

/** How a handle is shown: with its `@`. */
export function displayAlias(alias: string): string {
  return `@${alias}`;
}
