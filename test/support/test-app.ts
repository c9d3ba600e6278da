// A real HTTP app on 127.0.0.1 for pub/sub tests, started with node:http: it answers
// GET /dapr/subscribe with what the test says, records every request it gets (path, headers,
// body), answers each with the test's handler, and lets a test wait for deliveries.
import { createSocket } from 'node:dgram';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pollUntil } from './sidecar-process.ts';

export interface Delivery {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body as JSON, when it is JSON. */
  json: any;
}

export interface Answer {
  status?: number;
  body?: unknown;
}

/** Decides the answer to a delivery; `nth` counts the deliveries to that path, from 1. */
export type Handler = (delivery: Delivery, nth: number) => Answer | Promise<Answer>;

export class TestApp {
  readonly deliveries: Delivery[] = [];
  /** The answer to GET /dapr/subscribe: a body (200) or a status alone. */
  subscribe: { status: number; body?: unknown } = { status: 200, body: [] };
  subscribeRequests = 0;
  /** The headers of the last GET /dapr/subscribe. */
  subscribeHeaders: IncomingHttpHeaders | undefined;
  readonly #handlers = new Map<string, Handler>();
  readonly #server: Server;
  port = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.#answer(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  async #answer(method: string, url: string, headers: IncomingHttpHeaders, body: string, res: import('node:http').ServerResponse): Promise<void> {
    if (method === 'GET' && url === '/dapr/subscribe') {
      this.subscribeRequests++;
      this.subscribeHeaders = headers;
      res.writeHead(this.subscribe.status, { 'content-type': 'application/json' });
      res.end(this.subscribe.body === undefined ? '' : JSON.stringify(this.subscribe.body));
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const delivery: Delivery = { method, path: url, headers, body, json };
    this.deliveries.push(delivery);
    const nth = this.deliveries.filter((d) => d.path === url).length;
    const handler = this.#handlers.get(url);
    const answer = handler ? await handler(delivery, nth) : {};
    const status = answer.status ?? 200;
    if (answer.body === undefined) {
      res.writeHead(status);
      res.end();
    } else {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    }
  }

  /** How the app answers deliveries to `path` (by default 200 with no body). */
  on(path: string, handler: Handler): this {
    this.#handlers.set(path, handler);
    return this;
  }

  /** Deliveries to `path` so far. */
  at(path: string): Delivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  /** Waits until `path` got at least `count` deliveries; resolves to them. */
  waitFor(path: string, count = 1, timeoutMs = 5000): Promise<Delivery[]> {
    return pollUntil(
      () => `${count} deliveries to ${path} (got ${this.at(path).length}: ${JSON.stringify(this.deliveries.map((d) => d.path))})`,
      () => (this.at(path).length >= count ? this.at(path) : undefined),
      { timeoutMs, intervalMs: 5 },
    );
  }

  async listen(port = 0): Promise<this> {
    this.port = await listenOnLoopback(this.#server, port);
    return this;
  }

  close(): Promise<void> {
    return closeServer(this.#server);
  }
}

/** Starts `server` on 127.0.0.1 (`port` 0: a free one); resolves to its port. */
export async function listenOnLoopback(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Closes `server` and the connections it holds open. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port that was free a moment ago, for an app that must be named before it listens. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A UDP port no one uses now (mDNS tests take one, so this run's packets meet no other run's). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
