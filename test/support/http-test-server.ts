// A real HTTP server on a free loopback port for the tests of the `http` capability and of
// HTTP bindings: it records every request it receives and answers by path:
//   /echo...             200, the request (method, path, headers, body) as JSON, plus `x-reply: yes` and two `set-cookie`
//   /status/<code>       that status, body `status <code>`
//   /bytes/<n>           n bytes with a Content-Length; /chunked/<n> the same, chunked, without one
//   /redirect/<code>?to=<url>  that status with `Location: <url>`
//   /stall               headers and the first byte, then nothing until the test ends
//   /hang                nothing at all until the test ends
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from './test-app.ts';

export interface ReceivedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export class HttpTestServer {
  readonly #server: Server;
  readonly origin: string;
  readonly received: ReceivedRequest[] = [];
  /** Requests left hanging (/stall, /hang), ended when the server stops. */
  readonly #hanging = new Set<ServerResponse>();
  /** Settles when a request closes before its answer was finished (the client gave up). */
  #abandoned: { wait: Promise<void>; resolve: () => void } = HttpTestServer.#signal();

  private constructor(server: Server) {
    this.#server = server;
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static #signal(): { wait: Promise<void>; resolve: () => void } {
    let resolve!: () => void;
    const wait = new Promise<void>((r) => (resolve = r));
    return { wait, resolve };
  }

  static async start(): Promise<HttpTestServer> {
    let self: HttpTestServer | undefined;
    const server = createServer((req, res) => self!.#answer(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new HttpTestServer(server);
    return self;
  }

  /** Resolves once a request the server had not finished answering is closed by the client. */
  abandoned(): Promise<void> {
    return this.#abandoned.wait;
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    this.received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    res.on('close', () => {
      if (res.writableFinished) return;
      this.#abandoned.resolve();
      this.#abandoned = HttpTestServer.#signal();
    });
    const url = new URL(req.url!, this.origin);
    const [, route, arg] = url.pathname.split('/');
    switch (route) {
      case 'status':
        res.writeHead(Number(arg), { 'content-type': 'text/plain' }).end(`status ${arg}`);
        return;
      case 'bytes':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': arg }).end(Buffer.alloc(Number(arg), 'x'));
        return;
      case 'chunked': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        // In pieces, so the client sees a stream of chunks and no Content-Length.
        const piece = Buffer.alloc(16 * 1024, 'x');
        for (let left = Number(arg); left > 0; left -= piece.length) res.write(piece.subarray(0, Math.min(left, piece.length)));
        res.end();
        return;
      }
      case 'redirect':
        res.writeHead(Number(arg), { location: url.searchParams.get('to')! }).end();
        return;
      case 'stall':
        this.#hanging.add(res);
        res.writeHead(200, { 'content-type': 'text/plain' }).write('x');
        return;
      case 'hang':
        this.#hanging.add(res);
        return;
      case 'cut':
        // A body promised longer than what comes before the connection closes.
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' }).write('x', () => res.destroy());
        return;
      default: {
        const reply = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-reply', 'yes');
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.writeHead(route === 'echo' ? 200 : 404).end(req.method === 'HEAD' ? undefined : reply);
      }
    }
  }

  /** The last request received. */
  last(): ReceivedRequest {
    const req = this.received.at(-1);
    if (req === undefined) throw new Error('the test server received no request');
    return req;
  }

  async stop(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** An origin where nothing listens: a port the system gave and took back. */
export const deadOrigin = async (): Promise<string> => `http://127.0.0.1:${await freePort()}`;
