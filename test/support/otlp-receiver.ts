// An OTLP/HTTP trace receiver on loopback for tests: POST /v1/traces with the JSON encoding
// (what @opentelemetry/exporter-trace-otlp-http sends), each span kept with its resource's
// service.name. A test waits for the spans it expects.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pollUntil } from './sidecar-process.ts';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind number: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  serviceName: string | undefined;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[] }[] }[];
  }[];
}

const valueOf = (v: OtlpValue): unknown => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;
const attributesOf = (list: OtlpAttribute[] = []): Record<string, unknown> => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** The spans a receiver got, whatever its transport, and the wait for one. */
export class ReceivedSpans<S extends ReceivedSpan = ReceivedSpan> {
  readonly spans: S[] = [];
  /** Requests that were not OTLP (what and why), for a failing test to show. */
  readonly refused: string[] = [];

  /** Waits until a span matches `match`; resolves to it. */
  waitForSpan(what: string, match: (span: S) => boolean, timeoutMs = 10_000): Promise<S> {
    return pollUntil(
      () => `a span ${what}; got ${JSON.stringify(this.spans.map((s) => `${s.name} ${s.traceId}`))}${this.refused.length > 0 ? `; refused ${this.refused.join(', ')}` : ''}`,
      () => this.spans.find(match),
      { timeoutMs, intervalMs: 20 },
    );
  }
}

export class OtlpReceiver extends ReceivedSpans {
  readonly #server: Server = createServer((req, res) => void this.#receive(req, res));
  port = 0;

  async #receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
      this.refused.push(`${req.method} ${req.url} (${req.headers['content-type']})`);
      res.writeHead(415).end();
      return;
    }
    try {
      this.#take(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTraces);
    } catch (err) {
      this.refused.push(`unreadable body: ${(err as Error).message}`);
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }

  #take(body: OtlpTraces): void {
    for (const rs of body.resourceSpans ?? []) {
      const serviceName = attributesOf(rs.resource?.attributes)['service.name'] as string | undefined;
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind, attributes: attributesOf(s.attributes), serviceName });
        }
      }
    }
  }

  /** `host:port`, as a Configuration's `endpointAddress` names it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
