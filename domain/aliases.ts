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

/**
 * Words no handle may contain, even dressed up: a handle with one of them inside could pass for
 * the platform or its staff in a transfer (`@support_team`, `@saga_pay`, `@s4gapay`). Compared
 * after `foldLookAlikes`, so written here in folded form.
 */
export const RESERVED_WORDS: readonly string[] = ['admin', 'support', 'security', 'sagapay'];

/**
 * Digits a handle may use in place of a letter they look like (1 and l both fold to i, since
 * either reads as the other in many fonts), and the letters they fold to.
 */
const LOOK_ALIKES: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', l: 'i', '2': 'z', '3': 'e', '4': 'a', '5': 's', '6': 'g', '7': 't', '8': 'b', '9': 'g' };

/**
 * A handle as it reads to a person skimming it: digits folded to the letters they look like,
 * `l` and `i` made one, and `_` dropped (`@s4ga_pay` reads `sagapay`).
 */
export function foldLookAlikes(alias: string): string {
  return [...alias.replaceAll('_', '')].map((character) => LOOK_ALIKES[character] ?? character).join('');
}

const FOLDED_RESERVED_ALIASES: ReadonlySet<string> = new Set([...RESERVED_ALIASES].map(foldLookAlikes));
const FOLDED_RESERVED_WORDS = RESERVED_WORDS.map(foldLookAlikes);

/** Why a handle cannot be claimed, or null when it can. */
export type AliasProblem = 'format' | 'reserved' | null;

/** The canonical form of a handle as typed: trimmed, one leading `@` dropped, lower-cased. */
export function normaliseAlias(input: string): string {
  const trimmed = input.trim();
  return (trimmed.startsWith('@') ? trimmed.slice(1) : trimmed).toLowerCase();
}

/**
 * Whether a normalised handle is well-formed; a reserved handle, or one containing a reserved
 * word, each compared after folding look-alikes, is `reserved`.
 */
export function aliasProblem(alias: string): AliasProblem {
  if (!ALIAS_PATTERN.test(alias)) return 'format';
  const folded = foldLookAlikes(alias);
  if (FOLDED_RESERVED_ALIASES.has(folded) || FOLDED_RESERVED_WORDS.some((word) => folded.includes(word))) return 'reserved';
  return null;
}

/** How a handle is shown: with its `@`. */
export function displayAlias(alias: string): string {
  return `@${alias}`;
}
