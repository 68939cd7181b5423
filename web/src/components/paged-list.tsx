import type { JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { asProblem, type ApiProblem } from '../api/client';
import { ErrorBanner } from './forms';

/** One page of a list answer, as the contract shapes it. */
export interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor?: string | null;
}

/** How often the first page is read again, so new items appear without a reload. */
const REFRESH_MS = 2_000;

/**
 * A cursor-paginated list that stays current: the first page is read again every few seconds
 * and merged in front of what is loaded (new items appear, changed ones update), and
 * "Load more" follows `nextCursor`.
 */
export function usePagedList<T extends { id: string }>(load: (cursor: string | undefined) => Promise<Page<T>>, key: string) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loaded, setLoaded] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let first = true;
    const refresh = async () => {
      try {
        const page = await loadRef.current(undefined);
        if (stopped) return;
        setItems((current) => {
          const fresh = new Set(page.data.map((item) => item.id));
          return [...page.data, ...current.filter((item) => !fresh.has(item.id))];
        });
        if (first) setCursor(page.hasMore ? (page.nextCursor ?? null) : null);
        first = false;
        setLoaded(true);
        setProblem(undefined);
      } catch (error) {
        if (!stopped) setProblem(asProblem(error));
      }
      if (!stopped) timer = setTimeout(() => void refresh(), REFRESH_MS);
    };
    setItems([]);
    setLoaded(false);
    void refresh();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [key]);

  const loadMore = useCallback(async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await loadRef.current(cursor);
      setItems((current) => {
        const known = new Set(current.map((item) => item.id));
        return [...current, ...page.data.filter((item) => !known.has(item.id))];
      });
      setCursor(page.hasMore ? (page.nextCursor ?? null) : null);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setLoadingMore(false);
    }
  }, [cursor]);

  return { items, loaded, problem, hasMore: Boolean(cursor), loadingMore, loadMore };
}

/** The list's footer: loading state, errors, and "Load more" while there is more. */
export function ListFooter(props: { loaded: boolean; empty: boolean; emptyText: string; problem: ApiProblem | undefined; hasMore: boolean; loadingMore: boolean; loadMore: () => Promise<void>; label: string }): JSX.Element {
  return (
    <div class="list-footer">
      <ErrorBanner problem={props.problem} />
      {!props.loaded && <p role="status">Loading…</p>}
      {props.loaded && props.empty && <p>{props.emptyText}</p>}
      {props.hasMore && (
        <button type="button" onClick={() => void props.loadMore()} disabled={props.loadingMore} aria-label={`Load more ${props.label}`}>
          {props.loadingMore ? 'Loading…' : 'Load more'}
        </button>
      )}
    </div>
  );
}
