import { useRef, useState } from 'preact/hooks';
import { asProblem, unwrap, type ApiProblem } from '../api/client';
import { idempotencyKeyFor, isFinalAnswer, settleIdempotencyKey } from '../idempotency';

/**
 * Submits a money-moving form once: a second click while the first is in flight does nothing,
 * and every attempt for the same body carries the same Idempotency-Key (kept across reloads)
 * until the server gives a final answer.
 */
export function useMoneySubmission<Body, Result>(form: string, send: (body: Body, idempotencyKey: string) => Promise<{ data?: Result; error?: unknown; response: Response }>) {
  const inFlight = useRef(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | undefined>(undefined);
  const submit = async (body: Body, fingerprint: unknown = body): Promise<Result | undefined> => {
    if (inFlight.current) return undefined;
    inFlight.current = true;
    setBusy(true);
    setProblem(undefined);
    try {
      const result = await send(body, idempotencyKeyFor(form, fingerprint));
      if (isFinalAnswer(result.response.status)) settleIdempotencyKey(form);
      return unwrap(result);
    } catch (error) {
      setProblem(asProblem(error));
      return undefined;
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };
  return { busy, problem, setProblem, submit };
}
