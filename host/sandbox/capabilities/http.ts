// `http`: outbound HTTP requests to the origins the component's YAML grants
// (`tessera.dev/allow-http`), and to nothing else, redirects included. Every call suspends
// the component (JSPI) while the event loop serves. Node's http/https clients do the
// protocol, over one keep-alive pool per scheme; what is ours is the grant (checked on the
// first URL and on every redirect, which is why redirects are followed here), one deadline
// for the whole exchange, and a cap on the response body that stops reading as soon as it is
// passed, so a huge answer never reaches the sidecar's memory. The response is what the server
// sent: headers in the order received, repeated ones repeated, the body as it came (nothing is
// decompressed behind the component's back). In-flight requests are aborted with their instance.
import type { ClientRequest, IncomingMessage } from 'node:http';
import { urlToHttpOptions } from 'node:url';
import type { Metadata, WitError, WitResult } from '../../../abi/ts/types.ts';
import { HTTP_TOKEN, isPlainHeader } from '../../http-header-check.ts';
import type { Response as HttpResponse } from '../../../abi/ts/wit/http.ts';
import { MAX_TIMER_MS } from '../../units.ts';
import type { Capability, CapabilityContext } from './capability.ts';

// node:http and node:https as CommonJS, not ESM imports: an ESM namespace of node:http reads
// its lazy WebSocket getters, which load undici (~25 ms of a start).
const { Agent: HttpAgent, request: httpRequest, validateHeaderName, validateHeaderValue } = process.getBuiltinModule('node:http');
const { Agent: HttpsAgent, request: httpsRequest } = process.getBuiltinModule('node:https');

/** The annotation that grants http: origins, comma-separated. */
export const ALLOW_HTTP = 'tessera.dev/allow-http';

/** Used when a request says 0. */
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** No request may take more than this into the sidecar, whatever it asks. */
export const HOST_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const MAX_REDIRECTS = 5;
/** Targets kept parsed and checked per instance (a binding calls the same few URLs over and over), up to a length each. */
const TARGET_CACHE_SIZE = 32;
const TARGET_CACHE_MAX_LENGTH = 2048;

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

/**
 * Connections are reused across calls and components (each is bound to one origin anyway),
 * with the settings of Node's global agents: an idle one is closed after 5 s, before servers
 * that keep connections 5 s (Node's own) close it under a request.
 */
const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo', timeout: 5000 } as const;
const AGENTS = { 'http:': new HttpAgent(AGENT_OPTIONS), 'https:': new HttpsAgent(AGENT_OPTIONS) };

/**
 * Headers the host sets itself and drops from a request (as Go's client ignores them): the
 * framing and the connection are the host's, and the Host is the URL's.
 */
const HOST_MANAGED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);
/** Sent only to the origin they were meant for, as browsers and fetch do on a redirect elsewhere. */
const CREDENTIALS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** What Node's client takes from a URL (`urlToHttpOptions`). */
type RequestOptions = ReturnType<typeof urlToHttpOptions>;

/** Request headers by name: a repeated header (in any case) keeps each value, sent on lines of its own. */
type RequestHeaders = Record<string, string | string[]>;

/**
 * One call's exchange in flight: stopped at its deadline or when the instance is dropped, by
 * destroying its current request (and with it the response being read). A plain object and a
 * destroy, not an AbortController and a `signal` per request: those cost an EventTarget, a
 * listener and a stream watcher on every call of a hot path.
 */
interface Call {
  req: ClientRequest | undefined;
  /** Why it was stopped, once it was. */
  stopped: string | undefined;
}

function stop(call: Call, reason: string): void {
  if (call.stopped !== undefined) return;
  call.stopped = reason;
  call.req?.destroy(new Error(reason));
}

/** One request and its response's head; rejects when the exchange fails or `call` is stopped. */
function exchange(url: URL, options: RequestOptions, method: string, headers: RequestHeaders, body: Uint8Array, call: Call): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (call.stopped !== undefined) return reject(new Error(call.stopped));
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)({ ...options, method, headers, agent: https ? AGENTS['https:'] : AGENTS['http:'] }, resolve);
    call.req = req;
    req.on('error', reject);
    req.end(body.length > 0 ? body : undefined);
  });
}

/**
 * The body, read until it ends or passes `cap` (then the response is destroyed, unread).
 * Read with listeners rather than `for await`: the async iterator costs a promise per chunk
 * and a stream watcher per response.
 */
function readCapped(res: IncomingMessage, cap: number, url: string): Promise<WitResult<Uint8Array>> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (declared > cap) {
    res.destroy();
    return Promise.resolve(err('invalid-argument', `the response of ${url} is ${declared} bytes, over the ${cap}-byte cap`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > cap) {
        res.off('data', onData);
        res.destroy();
        resolve(err('invalid-argument', `the response of ${url} is over the ${cap}-byte cap`));
        return;
      }
      chunks.push(chunk);
    };
    res.on('data', onData);
    res.on('end', () => resolve(ok(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total))));
    res.on('error', reject);
    // A response cut off (the connection closed, or the call stopped) ends with a close and no
    // end. Every response closes: the error is made only for one that did not end.
    res.on('close', () => {
      if (!res.complete) reject(new Error('the connection closed before the response ended'));
    });
  });
}

/** `rawHeaders` (`[name, value, name, value, ...]`) as metadata: names in lower case, in order. */
function headerPairs(raw: readonly string[]): Metadata {
  const pairs: Metadata = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return pairs;
}

/** The request headers, less the ones the host sets; or what is wrong with one. */
function requestHeaders(list: Metadata): RequestHeaders | string {
  const byName = new Map<string, [string, string[]]>();
  for (const [name, value] of list) {
    // Node's checks say what is wrong; they run only when the quick ones fail.
    if (!isPlainHeader(name, value)) {
      try {
        validateHeaderName(name);
        validateHeaderValue(name, value);
      } catch (e) {
        return `bad request header "${name.slice(0, 100)}": ${(e as Error).message}`;
      }
    }
    const key = name.toLowerCase();
    if (HOST_MANAGED.has(key)) continue;
    const entry = byName.get(key);
    if (entry) entry[1].push(value);
    else byName.set(key, [name, [value]]);
  }
  return Object.fromEntries([...byName.values()].map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
}

/** `headers` less the credentials (for a redirect to another origin). */
const withoutCredentials = (headers: RequestHeaders): RequestHeaders => Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIALS.has(name.toLowerCase())));

function build({ component, grant, onDispose }: CapabilityContext<readonly string[]>) {
  const allowed = new Set(grant);
  const inFlight = new Set<Call>();
  onDispose(() => {
    for (const call of inFlight) stop(call, 'the instance was dropped');
  });

  /** Request options (what Node's client takes from a URL) of the targets last sent to, all granted. */
  const targets = new Map<string, { url: URL; options: RequestOptions }>();

  /** Why `url` may not be fetched, or undefined when it may. */
  const refusal = (url: URL): string | undefined => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.href} is not an http: or https: URL`;
    if (allowed.has(url.origin)) return undefined;
    return `http request to ${url.origin} is not allowed for component "${component}": it may reach ${[...allowed].join(', ')}; grant it with the annotation ${ALLOW_HTTP}`;
  };

  /** The WIT's `send`. */
  async function send(method: string, target: string, headerList: Metadata, requestBody: Uint8Array, timeoutMs: number, maxResponseBytes: number): Promise<WitResult<HttpResponse>> {
    let url: URL;
    let options: RequestOptions;
    const known = targets.get(target);
    if (known !== undefined) {
      ({ url, options } = known);
    } else {
      try {
        url = new URL(target);
      } catch {
        return err('invalid-argument', `"${target.slice(0, 200)}" is not an absolute URL`);
      }
      const refused = refusal(url);
      if (refused) return err('invalid-argument', refused);
      options = urlToHttpOptions(url);
      if (target.length <= TARGET_CACHE_MAX_LENGTH) {
        if (targets.size === TARGET_CACHE_SIZE) targets.clear();
        targets.set(target, { url, options });
      }
    }
    // CONNECT opens a tunnel, not an exchange with a response.
    if (!HTTP_TOKEN.test(method) || method.toUpperCase() === 'CONNECT') return err('invalid-argument', `"${method.slice(0, 40)}" is not an HTTP method the host sends`);
    const headers = requestHeaders(headerList);
    if (typeof headers === 'string') return err('invalid-argument', headers);
    let sent: RequestHeaders = headers;
    const timeout = Math.min(timeoutMs > 0 ? timeoutMs : DEFAULT_TIMEOUT_MS, MAX_TIMER_MS);
    const cap = Math.min(maxResponseBytes > 0 ? maxResponseBytes : DEFAULT_MAX_RESPONSE_BYTES, HOST_MAX_RESPONSE_BYTES);
    const call: Call = { req: undefined, stopped: undefined };
    const timer = setTimeout(() => stop(call, `timed out after ${timeout} ms`), timeout);
    inFlight.add(call);
    let body = requestBody;
    try {
      for (let hop = 0; ; hop++) {
        const res = await exchange(url, options, method, sent, body, call);
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
          res.destroy();
          if (hop === MAX_REDIRECTS) return err('unavailable', `${target} redirected more than ${MAX_REDIRECTS} times`);
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            return err('unavailable', `${url.href} redirected to "${location.slice(0, 200)}", which is not a URL`);
          }
          const outside = refusal(next);
          if (outside) return err('invalid-argument', `${url.href} redirected to ${next.href}: ${outside}`);
          // As browsers and fetch do: 303, and 301/302 after a POST, continue as a GET without a body.
          if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
            if (method !== 'HEAD') method = 'GET';
            body = new Uint8Array(0);
          }
          if (next.origin !== url.origin) sent = withoutCredentials(sent);
          url = next;
          options = urlToHttpOptions(next);
          continue;
        }
        const read = await readCapped(res, cap, url.href);
        if (read.tag === 'err') return read;
        return ok({ status, headers: headerPairs(res.rawHeaders), body: read.val });
      }
    } catch (e) {
      const cause = call.stopped ?? (e as Error).message;
      return err('unavailable', `http ${method} ${url.href} failed: ${cause}`);
    } finally {
      clearTimeout(timer);
      inFlight.delete(call);
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
