import { newId } from '../../domain/ids';

/** A no-op step's answer, the size of a real one: a money step answers its journal id, notify its notification ids. */
export function createNoopActivities(names: readonly string[], answer: 'journal' | 'notifications'): Record<string, (input: { paymentId: string }) => Promise<unknown>> {
  const step =
    answer === 'journal'
      ? () => Promise.resolve({ journalId: newId('jnl') })
      : () => Promise.resolve({ notificationIds: [newId('ntf'), newId('ntf')] });
  return Object.fromEntries(names.map((name) => [name, step]));
}
