// `http`: outbound HTTP requests to the origins the component's YAML grants
// (`tessera.dev/allow-http`), and to nothing else, redirects included. Every call suspends
// the component (JSPI) while the event loop serves. Node's `fetch` does the protocol; what is
// ours is the grant (checked on the first URL and on every redirect, which is why redirects
// are followed here rather than by fetch), one deadline for the whole exchange, and a cap on
// the response body that stops reading as soon as it is passed, so a huge answer never
// reaches the sidecar's memory. In-flight requests are aborted with their instance.
import type { Metadata, WitError, WitResult } from '../../../abi/ts/types.ts';
import type { Response as HttpResponse } from '../../../abi/ts/wit/http.ts';
import type { Capability, CapabilityContext } from './capability.ts';

/** The annotation that grants http: origins, comma-separated. */
export const ALLOW_HTTP = 'tessera.dev/allow-http';

/** Used when a request says 0. */
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** No request may take more than this into the sidecar, whatever it asks. */
export const HOST_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const ok = <T>(val: T): WitResult<T> => ({ tag: 'ok', val });
const err = (tag: WitError['tag'], val: string): WitResult<never> => ({ tag: 'err', val: { tag, val } });

/** `http://127.0.0.1:8080, https://api.example.com` -> their origins; at least one. */
export function parseOrigins(value: string): string[] {
  const origins = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        throw new Error(`must list origins such as http://127.0.0.1:8080, got "${entry}"`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`must list http: or https: origins, got "${entry}"`);
      if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
        throw new Error(`must list origins (scheme, host and port, no path), got "${entry}"`);
      }
      return url.origin;
    });
  if (origins.length === 0) throw new Error(`must list at least one origin, got "${value}"`);
  return origins;
}

/** The body, read until it ends or passes `cap` (then reading stops and the stream is cancelled). */
async function readCapped(res: Response, cap: number, url: string): Promise<WitResult<Uint8Array>> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > cap) {
    await res.body?.cancel();
    return err('invalid-argument', `the response of ${url} is ${declared} bytes, over the ${cap}-byte cap`);
  }
  if (res.body === null) return ok(new Uint8Array(0));
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel();
      return err('invalid-argument', `the response of ${url} is over the ${cap}-byte cap`);
    }
    chunks.push(value);
  }
  return ok(Buffer.concat(chunks));
}

function build({ component, grant, onDispose }: CapabilityContext<readonly string[]>) {
  const allowed = new Set(grant);
  const inFlight = new Set<AbortController>();
  onDispose(() => {
    for (const c of inFlight) c.abort(new Error('the instance was dropped'));
  });

  /** Why `url` may not be fetched, or undefined when it may. */
  const refusal = (url: URL): string | undefined => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.href} is not an http: or https: URL`;
    if (allowed.has(url.origin)) return undefined;
    return `http request to ${url.origin} is not allowed for component "${component}": it may reach ${[...allowed].join(', ')}; grant it with the annotation ${ALLOW_HTTP}`;
  };

  /** The WIT's `send`; its parameters, flat (one per field of the request). */
  async function send(method: string, target: string, headerList: Metadata, requestBody: Uint8Array, timeout: number, maxResponseBytes: number): Promise<WitResult<HttpResponse>> {
    const req = { method, url: target, headers: headerList, body: requestBody, timeoutMs: timeout, maxResponseBytes };
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return err('invalid-argument', `"${req.url.slice(0, 200)}" is not an absolute URL`);
    }
    const refused = refusal(url);
    if (refused) return err('invalid-argument', refused);
    if (!TOKEN.test(req.method)) return err('invalid-argument', `"${req.method.slice(0, 40)}" is not an HTTP method`);
    const headers = new Headers();
    try {
      for (const [name, value] of req.headers as Metadata) headers.append(name, value);
    } catch (e) {
      return err('invalid-argument', `bad request header: ${(e as Error).message}`);
    }
    const timeoutMs = req.timeoutMs > 0 ? req.timeoutMs : DEFAULT_TIMEOUT_MS;
    const cap = Math.min(req.maxResponseBytes > 0 ? req.maxResponseBytes : DEFAULT_MAX_RESPONSE_BYTES, HOST_MAX_RESPONSE_BYTES);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    inFlight.add(controller);
    let body: Uint8Array | undefined = req.body.length > 0 ? req.body : undefined;
    try {
      for (let hop = 0; ; hop++) {
        const res = await fetch(url, { method, headers, body, redirect: 'manual', signal: controller.signal });
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location !== null && res.status !== 304) {
          await res.body?.cancel();
          if (hop === MAX_REDIRECTS) return err('unavailable', `${req.url} redirected more than ${MAX_REDIRECTS} times`);
          const next = new URL(location, url);
          const outside = refusal(next);
          if (outside) return err('invalid-argument', `${url.href} redirected to ${next.href}: ${outside}`);
          // As browsers and fetch do: 303, and 301/302 after a POST, continue as a GET without a body.
          if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
            method = method === 'HEAD' ? 'HEAD' : 'GET';
            body = undefined;
          }
          url = next;
          continue;
        }
        const read = await readCapped(res, cap, url.href);
        if (read.tag === 'err') return read;
        return ok({ status: res.status, headers: [...res.headers], body: read.val });
      }
    } catch (e) {
      const cause = controller.signal.aborted ? (controller.signal.reason as Error).message : ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
      return err('unavailable', `http ${method} ${url.href} failed: ${cause}`);
    } finally {
      clearTimeout(timer);
      inFlight.delete(controller);
    }
  }

  return { send };
}

export const httpCapability: Capability<readonly string[]> = {
  interface: 'http',
  async: new Set(['send']),
  grant: { annotation: ALLOW_HTTP, parse: parseOrigins },
  build,
};
