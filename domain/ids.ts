import { monotonicFactory } from 'ulidx';

const nextUlid = monotonicFactory();

/** Prefixes of SagaPay's public ids, one per resource. */
export type IdPrefix = 'usr' | 'wal' | 'acc' | 'jnl' | 'txn' | 'top' | 'ntf' | 'aud' | 'pay' | 'trf' | 'ref' | 'req' | 'evt' | 'whe' | 'whd' | 'rft' | 'ses' | 'blk';

/** A new prefixed ULID such as `usr_01J…`: sortable by creation time, opaque to clients. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid()}`;
}
