// The shapes of the Dapr protos' messages as @grpc/proto-loader decodes them (dapr-protos.ts
// options: proto field names, enums by name, defaults filled in, absent messages null), for
// the fields the handlers read, and the conversions every handler shares.
import type { Metadata } from '../../../abi/ts/types.ts';

/** A proto `map<string, string>`. */
export type ProtoMap = Record<string, string>;

export interface ProtoStateOptions {
  concurrency: string;
  consistency: string;
}

/** common.v1.StateItem */
export interface ProtoStateItem {
  key: string;
  value: Buffer;
  etag: { value: string } | null;
  metadata: ProtoMap;
  options: ProtoStateOptions | null;
}

export function metadataOf(map: ProtoMap | null | undefined): Metadata {
  return map === null || map === undefined ? [] : Object.entries(map);
}

const CONSISTENCY: Record<string, string | undefined> = { CONSISTENCY_EVENTUAL: 'eventual', CONSISTENCY_STRONG: 'strong' };
const CONCURRENCY: Record<string, string | undefined> = { CONCURRENCY_FIRST_WRITE: 'first-write', CONCURRENCY_LAST_WRITE: 'last-write' };

/** A StateConsistency enum as the state building block names it; unspecified is none. */
export function consistencyName(value: string | undefined): string | undefined {
  return value === undefined ? undefined : CONSISTENCY[value];
}

export function concurrencyName(value: string | undefined): string | undefined {
  return value === undefined ? undefined : CONCURRENCY[value];
}
