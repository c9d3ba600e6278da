// The sidecar's HTTP client to its app (`--app-protocol http`): the app callbacks of
// app-callbacks.ts as HTTP requests (http-callbacks.ts builds and reads them), and service
// invocation. Connections are kept alive, every call has a deadline, and
// `dapr-api-token` is sent only when APP_API_TOKEN is set, as daprd does. With
// `--app-max-concurrency` at most that many calls are at the app at once, whatever makes them
// (deliveries of every subscription, input bindings, /dapr/subscribe); the rest wait their turn
// here, before their deadline starts.
import type { ClientRequest, Agent as HttpAgent, IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { TesseraError } from '../errors.ts';
import { MAX_TIMER_MS } from '../units.ts';
import type { AppCallbacks, AppSubscriptionsAnswer, AppVerdict, BindingEventCall, BulkTopicEventCall, TopicEventCall } from './app-callbacks.ts';
import { activeTracing } from '../observability/tracing.ts';
import { ConcurrencyLimit, UNLIMITED } from './concurrency-limit.ts';
import { bindingEventRequest, bulkTopicEventRequest, bulkVerdicts, SUBSCRIBE_PATH, topicEventRequest, verdictOf } from './http-callbacks.ts';

// node:http as CommonJS: an ESM `import` of it builds a namespace of all its exports, whose
// lazy WebSocket getters load undici (40-100 ms and 13 MB at every start).
const { Agent, request: httpRequest } = process.getBuiltinModule('node:http');

/** The signal a request in flight was sent under (a property of the request). */
const SENT_UNDER = Symbol('tessera.sentUnder');
type SignalledRequest = ClientRequest & { [SENT_UNDER]?: AbortSignal };

/** A call to the app that gets no answer within this long fails. */
export const DEFAULT_APP_TIMEOUT_MS = 60_000;

export interface AppChannelOptions {
  port: number;
  /** Where the app listens; daprd's `--app-channel-address`, 127.0.0.1 by default. */
  address?: string;
  /** APP_API_TOKEN: sent to the app as `dapr-api-token` so it can tell the sidecar's calls apart. */
  appApiToken?: string | undefined;
  /** Most connections open to the app at once. */
  maxSockets?: number;
  /** `--app-max-concurrency`: most calls at the app at once; undefined for no limit. */
  maxConcurrency?: number | undefined;
  /**
   * A gRPC app's largest message either way (daprd's `--max-body-size`); grpc-js's own limit
   * (4 MiB in, none out) otherwise. An HTTP app's answers are capped per call instead.
   */
  maxMessageBytes?: number | undefined;
}

export interface AppRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS' | 'CONNECT' | 'TRACE';
  /** The path on the app, with a leading `/` (added when missing). */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  timeoutMs?: number;
  /** Aborts the call, e.g. when the sidecar stops. */
  signal?: AbortSignal;
  /** The largest answer kept; a larger one fails the call rather than being buffered whole. */
  maxResponseBytes?: number;
}

export interface AppResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Call {
  timeoutMs: number;
  signal: AbortSignal;
}

export class AppChannel implements AppCallbacks {
  readonly protocol = 'http';
  readonly subscriptionsCall = `GET ${SUBSCRIBE_PATH}`;
  readonly port: number;
  readonly address: string;
  readonly #agent: HttpAgent;
  readonly #token: string | undefined;
  readonly #calls: ConcurrencyLimit;
  /** The signals whose abort this channel listens for: one listener a signal, not one a call. */
  readonly #watched = new WeakSet<AbortSignal>();

  constructor(options: AppChannelOptions) {
    this.port = options.port;
    this.address = options.address ?? '127.0.0.1';
    this.#token = options.appApiToken || undefined;
    this.#calls = new ConcurrencyLimit(options.maxConcurrency ?? UNLIMITED);
    // A socket per call that may be at the app, so the limit (not the agent) decides who waits.
    const maxSockets = Math.max(options.maxSockets ?? 128, Number.isFinite(options.maxConcurrency) ? options.maxConcurrency! : 0);
    this.#agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** Sends one request; rejects with ERR_APP_CHANNEL when the app cannot be reached or is too slow. */
  async request(req: AppRequest): Promise<AppResponse> {
    try {
      await this.#calls.acquire(req.signal);
    } catch (err) {
      throw new TesseraError('ERR_APP_CHANNEL', `error invoking app channel: ${req.method} ${req.path}: aborted while waiting for --app-max-concurrency`, { cause: err });
    }
    try {
      return await this.#traced(req);
    } finally {
      this.#calls.release();
    }
  }

  /**
   * With tracing on, the call gets a CLIENT span: a child of the trace its headers carry (a
   * delivery's CloudEvent) or of the current span, whose `traceparent` the app receives.
   */
  async #traced(req: AppRequest): Promise<AppResponse> {
    const tracing = activeTracing;
    if (tracing === undefined) return this.#send(req);
    const headers = { ...req.headers };
    const end = tracing.appCall(`${req.method} ${req.path}`, headers);
    if (end === undefined) return this.#send(req);
    try {
      const res = await this.#send({ ...req, headers });
      end(res.status);
      return res;
    } catch (err) {
      end(undefined);
      throw err;
    }
  }

  #send(req: AppRequest): Promise<AppResponse> {
    const path = req.path.startsWith('/') ? req.path : `/${req.path}`;
    const headers: Record<string, string | number> = { ...req.headers };
    if (this.#token !== undefined) headers['dapr-api-token'] = this.#token;
    const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
    if (body !== undefined) headers['content-length'] = body.byteLength;
    const timeoutMs = req.timeoutMs ?? DEFAULT_APP_TIMEOUT_MS;
    const target = `${req.method} http://${this.address}:${this.port}${path}`;

    return new Promise<AppResponse>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const fail = (why: string, cause?: unknown): void => {
        clearTimeout(timer);
        reject(new TesseraError('ERR_APP_CHANNEL', `error invoking app channel: ${target}: ${why}`, { cause }));
      };
      const signal = req.signal;
      if (signal?.aborted) {
        fail('the call was aborted', signal.reason);
        return;
      }
      // Not node:http's `signal` and `timeout` options: the first adds and removes a listener
      // on the signal through the stream helpers at every request, the second re-arms the
      // socket's idle timer at each request and each read; together about a fifth of a bare
      // request's CPU. The call is marked with its signal instead, found through the agent
      // when the signal aborts (#abortCalls), and its deadline is one timer.
      const call: SignalledRequest = httpRequest(
        { host: this.address, port: this.port, method: req.method, path, headers, agent: this.#agent },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const max = req.maxResponseBytes ?? Number.POSITIVE_INFINITY;
          res.on('data', (chunk: Buffer) => {
            size += chunk.byteLength;
            if (size > max) {
              res.destroy();
              fail(`the answer is larger than ${max} bytes (--max-body-size)`);
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('error', (err) => fail(err.message, err));
        },
      );
      if (timeoutMs > 0) timer = setTimeout(() => call.destroy(new Error(`no answer within ${timeoutMs} ms`)), Math.min(timeoutMs, MAX_TIMER_MS));
      if (signal !== undefined) {
        call[SENT_UNDER] = signal;
        this.#watch(signal);
      }
      call.on('error', (err) => fail(err.message, err));
      call.end(body);
    });
  }

  #watch(signal: AbortSignal): void {
    if (this.#watched.has(signal)) return;
    this.#watched.add(signal);
    signal.addEventListener(
      'abort',
      () => {
        this.#abortCalls(signal);
        // A call the agent has just given a socket is on it only from the next tick.
        setImmediate(() => this.#abortCalls(signal));
      },
      { once: true },
    );
  }

  /** Destroys the calls sent under `signal`: those waiting for a socket, and those on one. */
  #abortCalls(signal: AbortSignal): void {
    const error = new Error('the call was aborted', { cause: signal.reason });
    const calls: SignalledRequest[] = [];
    for (const waiting of Object.values(this.#agent.requests)) calls.push(...((waiting ?? []) as SignalledRequest[]));
    // A socket in use carries its request as `_httpMessage` (node:http's own field).
    for (const sockets of Object.values(this.#agent.sockets)) {
      for (const socket of sockets ?? []) {
        const call = (socket as Socket & { _httpMessage?: SignalledRequest | null })._httpMessage;
        if (call) calls.push(call);
      }
    }
    for (const call of calls) if (call[SENT_UNDER] === signal && !call.destroyed) call.destroy(error);
  }

  /** `GET /dapr/subscribe` with `dapr-app-id`, as daprd asks it; 404 means none. */
  async listTopicSubscriptions(appId: string, call: Call): Promise<AppSubscriptionsAnswer> {
    const headers = { 'content-type': 'application/json', 'dapr-app-id': appId };
    const res = await this.request({ method: 'GET', path: SUBSCRIBE_PATH, headers, ...call });
    if (res.status === 200) return { found: true, body: res.body.toString('utf8') };
    if (res.status === 404) return { found: false, why: `the app has no ${SUBSCRIBE_PATH} (404)`, unexpected: false };
    return { found: false, why: `the app answered ${res.status} to ${this.subscriptionsCall}`, unexpected: true };
  }

  async onTopicEvent(call: TopicEventCall): Promise<AppVerdict> {
    try {
      const res = await this.request({ ...topicEventRequest(call), timeoutMs: call.timeoutMs, signal: call.signal });
      return verdictOf(res.status, res.body);
    } catch (err) {
      return { outcome: 'retry', reason: (err as Error).message };
    }
  }

  async onBulkTopicEvent(call: BulkTopicEventCall): Promise<Map<string, AppVerdict>> {
    const ids = call.entries.map((e) => e.entryId);
    try {
      const res = await this.request({ ...bulkTopicEventRequest(call), timeoutMs: call.timeoutMs, signal: call.signal });
      return bulkVerdicts(res.status, res.body, ids);
    } catch (err) {
      const verdict: AppVerdict = { outcome: 'retry', reason: (err as Error).message };
      return new Map(ids.map((id) => [id, verdict]));
    }
  }

  /** `OPTIONS /{route}`: a 2xx or 405 means the app listens, as in daprd. */
  async inputBindingListens(_name: string, path: string, call: Call): Promise<{ listens: true } | { listens: false; why: string }> {
    let res: AppResponse;
    try {
      res = await this.request({ method: 'OPTIONS', path, ...call });
    } catch (err) {
      throw new TesseraError('ERR_APP_CHANNEL', `the app did not answer OPTIONS ${path}: ${(err as Error).message}`, { cause: err });
    }
    if ((res.status >= 200 && res.status < 300) || res.status === 405) return { listens: true };
    return { listens: false, why: `the app answered OPTIONS ${path} with ${res.status}` };
  }

  /** Only a 200 takes the event, as in daprd. */
  async onBindingEvent(call: BindingEventCall): Promise<string | undefined> {
    try {
      const res = await this.request({ ...bindingEventRequest(call), timeoutMs: call.timeoutMs, signal: call.signal });
      return res.status === 200 ? undefined : `the app answered event ${call.id} on POST ${call.path} with ${res.status}`;
    } catch (err) {
      return `event ${call.id} could not be delivered to POST ${call.path}: ${(err as Error).message}`;
    }
  }

  /** `GET {path}`: any 2xx is healthy, as daprd's HTTP probe has it. */
  async healthCheck(path: string, call: Call): Promise<void> {
    const res = await this.request({ method: 'GET', path, ...call });
    if (res.status < 200 || res.status > 299) throw new TesseraError('ERR_APP_CHANNEL', `the app answered GET ${path} with ${res.status}`);
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}
