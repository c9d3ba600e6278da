// A request's metadata (`metadata.*` query parameters, body or entry metadata) as every
// building block reads it: name/value pairs in the order the transport merged them.
import type { Metadata } from '../../abi/ts/types.ts';

/** The value of a metadata entry, the last one winning as a later merge would. */
export function metadataValue(metadata: Metadata, name: string): string | undefined {
  for (let i = metadata.length - 1; i >= 0; i--) {
    const entry = metadata[i];
    if (entry !== undefined && entry[0] === name) return entry[1];
  }
  return undefined;
}
