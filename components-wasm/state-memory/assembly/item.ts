// A stored item of state.memory. It is its own answer to a get (a `GetResult`), prebuilt so a
// read allocates nothing.
import { GetResponse, GetResult, Metadata } from "../../../sdk/assemblyscript/assembly/index";
import { formatRfc3339 } from "./ttl";

/** The metadata of every item that never expires; shared, so never written to. */
const NO_METADATA = new Metadata();

export class Item extends GetResult {
  constructor(public etag: string, public expiresAt: u64, response: GetResponse) {
    super(response, null);
  }

  /** An item whose ETag is `etagNumber` in decimal, expiring at `expiresAt` (ms since the epoch; 0: never). */
  static create(value: Uint8Array, etagNumber: u64, contentType: string | null, expiresAt: u64): Item {
    const etag = etagNumber.toString();
    const metadata = expiresAt != 0 ? new Metadata().append("ttlExpireTime", formatRfc3339(expiresAt)) : NO_METADATA;
    return new Item(etag, expiresAt, new GetResponse(value, etag, contentType, metadata));
  }

  /** The item's response; an item always has one. */
  get stored(): GetResponse {
    return this.response!;
  }
}
