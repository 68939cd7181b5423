import type { Knex } from 'knex';
import { HttpError } from './errors';

/** The contract's list form. */
export interface ListPage<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

/**
 * Newest-first cursor pagination over a filtered query of a table with `seq`
 * (insertion order) and `id` (public id). The cursor is the last id seen; an
 * id outside the query's rows is 404 `not_found`, like any id that names nothing
 * the caller may see (well-formed, so not a validation error), never an empty page.
 */
export async function paginate<Row extends { seq: number | string; id: string }, T>(
  query: Knex.QueryBuilder,
  page: { limit: number; startingAfter?: string | undefined },
  toItem: (row: Row) => T,
): Promise<ListPage<T>> {
  let rowsQuery = query.clone();
  if (page.startingAfter !== undefined) {
    const cursor = (await query.clone().select('seq').where('id', page.startingAfter).first()) as Pick<Row, 'seq'> | undefined;
    if (!cursor) throw new HttpError(404, 'not_found', 'startingAfter names no item of this list.', { startingAfter: 'does not name an item of this list' });
    rowsQuery = rowsQuery.where('seq', '<', cursor.seq);
  }
  const rows = (await rowsQuery.select('*').orderBy('seq', 'desc').limit(page.limit + 1)) as Row[];
  const hasMore = rows.length > page.limit;
  const data = rows.slice(0, page.limit).map(toItem);
  const last = rows[page.limit - 1];
  return { data, hasMore, nextCursor: hasMore && last ? String(last.id) : null };
}
