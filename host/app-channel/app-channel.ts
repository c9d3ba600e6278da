// The sidecar's HTTP client to its app: pub/sub deliveries, `/dapr/subscribe`, input
// bindings and service invocation. Connections are kept alive, every call has a deadline, and
// `dapr-api-token` is sent only when APP_API_TOKEN is set, as daprd does. With
// `--app-max-concurrency` at most that many calls are at the app at once, whatever makes them
// (deliveries of every subscription, input bindings, /dapr/subscribe); the rest wait their turn
// here, before their deadline starts.
import type { Agent as HttpAgent, IncomingHttpHeaders } from 'node:http';
import { TesseraError } from '../errors.ts';
import { ConcurrencyLimit, UNLIMITED } from './concurrency-limit.ts';

// node:http as CommonJS: an ESM `import` of it builds a namespace of all its exports, whose
// lazy WebSocket getters load undici (40-100 ms and 13 MB at every start).
const { Agent, request: httpRequest } = process.getBuiltinModule('node:http');

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

export class AppChannel {
  readonly port: number;
  readonly address: string;
  readonly #agent: HttpAgent;
  readonly #token: string | undefined;
  readonly #calls: ConcurrencyLimit;

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
      return await this.#send(req);
    } finally {
      this.#calls.release();
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
      const fail = (why: string, cause?: unknown): void => {
        reject(new TesseraError('ERR_APP_CHANNEL', `error invoking app channel: ${target}: ${why}`, { cause }));
      };
      const call = httpRequest(
        { host: this.address, port: this.port, method: req.method, path, headers, agent: this.#agent, signal: req.signal, timeout: timeoutMs },
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
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', (err) => fail(err.message, err));
        },
      );
      call.on('timeout', () => call.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      call.on('error', (err) => fail(err.message, err));
      call.end(body);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}
