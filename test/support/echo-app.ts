// A real HTTP app on 127.0.0.1 for service invocation tests: it records every request and
// answers with what it saw (method, URL, headers, body) as JSON, with an `x-answered-by`
// header naming it, unless the test set another answer for a path (`on`): a status, a body,
// headers, or a wait the test ends.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './test-app.ts';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface EchoAnswer {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** A string is sent as it is; anything else as JSON; undefined echoes the request. */
  body?: unknown;
  /** Answers only once this settles (a slow app). */
  after?: Promise<unknown>;
}

/** Decides the answer to a request of a path (without its query); `nth` counts that path's requests, from 1. */
export type EchoHandler = (seen: Seen, nth: number) => EchoAnswer;

export class EchoApp {
  readonly name: string;
  readonly seen: Seen[] = [];
  port = 0;
  readonly #server: Server;
  readonly #handlers = new Map<string, EchoHandler>();

  constructor(name: string) {
    this.name = name;
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.#answer({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }, res));
    });
  }

  async #answer(seen: Seen, res: ServerResponse): Promise<void> {
    this.seen.push(seen);
    const path = seen.url.split('?', 1)[0]!;
    const handler = this.#handlers.get(path);
    const answer = handler?.(seen, this.at(path).length) ?? {};
    await answer.after;
    const body = answer.body === undefined ? JSON.stringify(seen) : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', 'x-answered-by': this.name, ...answer.headers });
    res.end(seen.method === 'HEAD' ? undefined : body);
  }

  on(path: string, handler: EchoHandler): this {
    this.#handlers.set(path, handler);
    return this;
  }

  /** The requests to `path` (without the query) so far. */
  at(path: string): Seen[] {
    return this.seen.filter((s) => s.url.split('?', 1)[0] === path);
  }

  async listen(port = 0): Promise<this> {
    this.port = await listenOnLoopback(this.#server, port);
    return this;
  }

  close(): Promise<void> {
    return closeServer(this.#server);
  }
}
