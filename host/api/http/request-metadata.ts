// Request metadata as daprd reads it: `metadata.<name>` query parameters (the first value when
// repeated), overriding the same names given in a JSON body.
import type { Metadata } from '../../../abi/ts/types.ts';

const PREFIX = 'metadata.';

export type Query = Record<string, string | string[] | undefined>;

/** The first value of a query parameter. */
export function queryValue(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

export function queryMetadata(query: Query): Metadata {
  const metadata: Metadata = [];
  for (const name in query) {
    if (!name.startsWith(PREFIX)) continue;
    const value = queryValue(query, name);
    if (value !== undefined) metadata.push([name.slice(PREFIX.length), value]);
  }
  return metadata;
}

/** Body metadata with the query's entries winning, as daprd's `maps.Copy(body, query)`. */
export function mergeMetadata(body: Record<string, string> | null | undefined, query: Metadata): Metadata {
  if (body === null || body === undefined) return query;
  const merged: Metadata = [];
  for (const entry of Object.entries(body)) {
    if (!query.some(([name]) => name === entry[0])) merged.push(entry);
  }
  return merged.concat(query);
}
