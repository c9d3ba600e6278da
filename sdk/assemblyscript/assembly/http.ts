// The `http` host interface with a friendly wrapper around the generated call
// (./generated/http.ts). Kept out of "./host" so a component that never sends HTTP builds the
// same bytes as before; "./binding" re-exports it, and any component may import it from here.
import { send as hostSend, SendResult } from "./generated/http";
import { Metadata } from "./types";

export { Response as HttpResponse, SendResult as HttpSendResult } from "./generated/http";

/**
 * Outbound HTTP to the origins the component's YAML grants
 * (`tessera.dev/allow-http: "http://127.0.0.1:8080, https://api.example.com"`). Suspends this
 * component, not the sidecar (JSPI), so importing it makes every call of the component async.
 */
export namespace http {
  /**
   * Sends one request and answers the whole response (any status) in `value`, an
   * `HttpResponse` (`status`, `headers` with names in lower case, `body`), or `error`:
   * `invalid-argument` when the URL is not granted (the message names the annotation to add) or
   * the response is over `maxResponseBytes`, `unavailable` when the server cannot be reached
   * or does not answer within `timeoutMs`. Redirects are followed only within the grant.
   */
  export function send(method: string, url: string, headers: Metadata, body: Uint8Array, timeoutMs: u32, maxResponseBytes: u32): SendResult {
    return hostSend(method, url, headers, body, timeoutMs, maxResponseBytes);
  }
}
