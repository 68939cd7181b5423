import type { Knex } from 'knex';
import { normaliseAlias } from '../domain/aliases';

/** The longest search text the directory accepts: it bounds the LIKE patterns. */
export const MAX_SEARCH_LENGTH = 100;

/** `text` as a literal inside a LIKE pattern: `%`, `_` and the escape character itself lose their meaning. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/**
 * Merchants whose name contains `search`, or one of whose handles does, as a query on `users` for
 * a newest-first page. The `users (role, seq)` index lets the database walk merchants newest first
 * and stop once a page is full; the handle test is one lookup on `aliases (user_id, …)` per merchant.
 * Closed accounts are left out. Without `search`, every open merchant.
 */
export function merchantsMatching(db: Knex, search: string | undefined): Knex.QueryBuilder {
  const query = db('users').where('users.role', 'merchant').andWhere('users.status', 'active');
  if (search === undefined) return query;
  const handle = normaliseAlias(search);
  const namePattern = `%${escapeLike(search.trim())}%`;
  const handlePattern = `%${escapeLike(handle)}%`;
  return query.andWhere((builder) => {
    void builder
      .where('users.name', 'like', namePattern)
      .orWhereExists(db('aliases').select(db.raw('1')).whereRaw('aliases.user_id = users.id').andWhere('aliases.alias', 'like', handlePattern));
  });
}

/**
 * Users whose e-mail starts with `search` or whose name contains it, as a query on `users` for a
 * newest-first page. A search with an `@` can only be an e-mail: it is matched on the e-mail
 * prefix alone, which the unique e-mail index serves without reading every user. Without
 * `search`, every user.
 */
export function usersMatching(db: Knex, search: string | undefined): Knex.QueryBuilder {
  const query = db('users');
  if (search === undefined) return query;
  const text = escapeLike(search.trim());
  if (text.includes('@')) return query.where('users.email', 'like', `${text.toLowerCase()}%`);
  return query.where((builder) => {
    void builder.where('users.email', 'like', `${text.toLowerCase()}%`).orWhere('users.name', 'like', `%${text}%`);
  });
}
