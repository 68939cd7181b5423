import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { asProblem, type ApiProblem } from './api/client';

/** Loads data once and then every `intervalMs` (when given) while mounted; never overlapping, stopped on unmount. */
export function usePolling<T>(
  load: () => Promise<T>,
  dependencies: unknown[],
  options: { intervalMs?: number; stopWhen?: (value: T) => boolean } = {},
): { value: T | undefined; problem: ApiProblem | undefined; reload: () => void } {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const [generation, setGeneration] = useState(0);
  const optionsRef = useRef(options);
  optionsRef.current = options;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await load();
        if (stopped) return;
        setValue(next);
        setProblem(undefined);
        if (optionsRef.current.stopWhen?.(next)) return;
      } catch (error) {
        if (stopped) return;
        setProblem(asProblem(error));
      }
      const interval = optionsRef.current.intervalMs;
      if (interval !== undefined && !stopped) timer = setTimeout(() => void tick(), interval);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [...dependencies, generation]);
  const reload = useCallback(() => setGeneration((current) => current + 1), []);
  return { value, problem, reload };
}
