// Checks the user's state options before they reach a component: the WIT enums cannot carry
// an unknown word, and a bad `ttlInSeconds` should be the caller's error, not the store's.
import type { Concurrency, Consistency } from '../../../abi/ts/state.ts';
import type { Metadata } from '../../../abi/ts/types.ts';
import { TesseraError } from '../../errors.ts';
import { metadataValue } from '../request-metadata.ts';

const MAX_TTL_SECONDS = 2 ** 31 - 1;

/** Dapr's default is last-write; an empty value means the default. */
export function concurrencyOf(value: string | undefined): Concurrency {
  if (value === undefined || value === '' || value === 'last-write') return 'last-write';
  if (value === 'first-write') return 'first-write';
  throw new TesseraError(
    'ERR_MALFORMED_REQUEST',
    `unrecognized concurrency model '${value}': use first-write or last-write`,
  );
}

export function consistencyOf(value: string | undefined): Consistency {
  if (value === undefined || value === '' || value === 'eventual') return 'eventual';
  if (value === 'strong') return 'strong';
  throw new TesseraError('ERR_MALFORMED_REQUEST', `unrecognized consistency model '${value}': use eventual or strong`);
}

/** Refuses a `ttlInSeconds` that is not an integer from -1 (never expires) up, as Dapr's stores do. */
export function checkTtl(metadata: Metadata, key?: string): void {
  const ttl = metadataValue(metadata, 'ttlInSeconds');
  if (ttl === undefined || ttl === '') return;
  const seconds = /^[+-]?\d+$/.test(ttl) ? Number(ttl) : Number.NaN;
  if (seconds >= -1 && seconds <= MAX_TTL_SECONDS) return;
  const where = key === undefined ? '' : ` for key '${key}'`;
  throw new TesseraError(
    'ERR_MALFORMED_REQUEST',
    `incorrect value for metadata 'ttlInSeconds'${where}: "${ttl}" must be an integer from -1 (never expires) to ${MAX_TTL_SECONDS}`,
  );
}
