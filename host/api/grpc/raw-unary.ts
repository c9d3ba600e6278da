// A unary gRPC method served on its raw HTTP/2 stream (taken off a grpc-js Server by
// raw-streams.ts): one length-prefixed message in, one out, the status in trailers, as the gRPC
// wire protocol has it. grpc-js builds an intercepting call, a metadata object, listeners and
// timers for every call; for the internal `CallLocal`, the one method every invocation between
// sidecars goes through, that was about 60 µs of the callee sidecar's CPU a call (measured
// in one process, client and server together: 205 µs a call through grpc-js with channelz off,
// 147 µs on the raw stream). What grpc-js answers is answered here the same way: a wrong
// content type (415), a message over the size limit (RESOURCE_EXHAUSTED), an unknown encoding
// (UNIMPLEMENTED), a message that does not decode (INTERNAL), no message or two (UNIMPLEMENTED),
// the caller's `grpc-timeout` (DEADLINE_EXCEEDED); gzip and deflate messages are inflated.
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import { gunzip, inflate, type ZlibOptions } from 'node:zlib';
import { status as Status, type MethodDefinition, type Server } from '@grpc/grpc-js';
import { grpcFrame } from '../../building-blocks/invoke/grpc-frame.ts';
import { takeStreams } from './raw-streams.ts';

type Inflate = (bytes: Buffer, options: ZlibOptions, done: (err: Error | null, result: Buffer) => void) => void;
const inflaters: Record<string, Inflate> = { gzip: gunzip, deflate: inflate };

/** grpc-timeout's units, in ms. */
const TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** A failed call: its gRPC status and message. */
export interface UnaryFailure {
  code: Status;
  details: string;
}

/** What a handler knows of its call besides the request. */
export interface RawUnaryCall {
  /** Aborts when the caller cancels, its deadline passes or the connection drops. */
  signal: AbortSignal;
  /** Time left before the caller's deadline (`grpc-timeout`); undefined without one. */
  timeoutMs: number | undefined;
  /** The TLS peer's verified certificate, in grpc-js's shape (peer-identity.ts reads it). */
  getAuthContext(): { sslPeerCertificate?: PeerCertificate | undefined };
}

export type RawUnaryHandler<Req, Res> = (request: Req, call: RawUnaryCall) => Promise<Res>;

/** `grpc-message` as the gRPC spec encodes it: `%` and what is not printable ASCII percent-encoded (as UTF-8). */
function encodeMessage(details: string): string {
  return details.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      // A lone surrogate: U+FFFD.
      return '%EF%BF%BD';
    }
  });
}

function isFailure(err: unknown): err is UnaryFailure {
  return typeof err === 'object' && err !== null && typeof (err as UnaryFailure).code === 'number' && typeof (err as UnaryFailure).details === 'string';
}

/** `grpc-timeout` in ms (at least 1); undefined when absent or malformed, as grpc-js ignores those. */
function timeoutOf(header: string | string[] | undefined): number | undefined {
  const match = typeof header === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(header) : null;
  return match === null ? undefined : Math.max(1, Math.trunc(Number(match[1]) * TIMEOUT_UNITS[match[2]!]!));
}

function authContextOf(stream: ServerHttp2Stream): { sslPeerCertificate?: PeerCertificate | undefined } {
  const socket = stream.session?.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return {};
  const cert = socket.getPeerCertificate();
  return cert.raw === undefined ? {} : { sslPeerCertificate: cert };
}

/** Serves `method` on `server` with `handle`; requests larger than `maxMessageBytes` are refused. Call before `bindAsync`. */
export function serveRawUnary<Req, Res>(server: Server, method: MethodDefinition<Req, Res>, maxMessageBytes: number, handle: RawUnaryHandler<Req, Res>): void {
  takeStreams(server, method.path, (stream, headers) => unary(stream, headers, method, maxMessageBytes, handle));
}

function unary<Req, Res>(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, method: MethodDefinition<Req, Res>, maxMessageBytes: number, handle: RawUnaryHandler<Req, Res>): void {
  const contentType = headers['content-type'];
  if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
    stream.respond({ ':status': 415 }, { endStream: true });
    return;
  }
  const controller = new AbortController();
  let answered = false;
  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = timeoutOf(headers['grpc-timeout']);

  const fail = (failure: UnaryFailure): void => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    if (stream.destroyed || stream.headersSent) return;
    // Trailers-only: the status in the one HEADERS frame.
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(failure.code), 'grpc-message': encodeMessage(failure.details) }, { endStream: true });
  };
  const succeed = (response: Res): void => {
    if (answered) return;
    let message: Buffer;
    try {
      message = method.responseSerialize(response);
    } catch (err) {
      fail({ code: Status.INTERNAL, details: `Error serializing response: ${(err as Error).message}` });
      return;
    }
    answered = true;
    clearTimeout(timer);
    if (stream.destroyed) return;
    const frame = grpcFrame(message);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' }));
    stream.end(frame);
  };

  stream.once('close', () => {
    clearTimeout(timer);
    if (!answered) controller.abort(new Error('the caller cancelled the call'));
    answered = true;
    // Nothing of the call stays reachable from the closed stream, which Node's http2 keeps until
    // its native side is freed (a young-generation GC meanwhile counts all it reaches as live).
    stream.off('data', onData).off('end', onEnd);
    chunks.length = 0;
  });
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => {
      fail({ code: Status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
      controller.abort(new Error(`the caller's deadline of ${timeoutMs} ms passed`));
    }, timeoutMs);
  }

  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    if (answered) return;
    size += chunk.byteLength;
    if (size > maxMessageBytes + 5) {
      fail({ code: Status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${size - 5} vs. ${maxMessageBytes})` });
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = (): void => {
    if (answered) return;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (body.byteLength === 0) {
      fail({ code: Status.UNIMPLEMENTED, details: `No message received for unary call ${method.path}` });
      return;
    }
    const length = body.byteLength >= 5 ? body.readUInt32BE(1) : -1;
    if (length < 0 || body.byteLength < 5 + length) {
      fail({ code: Status.INTERNAL, details: 'the request ended in the middle of a message' });
      return;
    }
    if (body.byteLength > 5 + length) {
      fail({ code: Status.UNIMPLEMENTED, details: `Received a second request message for unary call ${method.path}` });
      return;
    }
    const run = (request: Buffer): void => {
      if (answered) return;
      let parsed: Req;
      try {
        parsed = method.requestDeserialize(request);
      } catch (err) {
        fail({ code: Status.INTERNAL, details: `Error deserializing request: ${(err as Error).message}` });
        return;
      }
      handle(parsed, { signal: controller.signal, timeoutMs, getAuthContext: () => authContextOf(stream) }).then(succeed, (err: unknown) =>
        fail(isFailure(err) ? err : { code: Status.UNKNOWN, details: err instanceof Error ? err.message : String(err) }),
      );
    };
    if (body[0] === 0) run(body.subarray(5));
    else void inflated(headers['grpc-encoding'], body.subarray(5), maxMessageBytes).then((request) => (isFailure(request) ? fail(request) : run(request)));
  };
  stream.on('data', onData);
  stream.once('end', onEnd);
}

/** A compressed message's bytes, inflated (off the main thread, bounded by the size limit); or the failure to answer. */
function inflated(encoding: string | string[] | undefined, bytes: Buffer, maxMessageBytes: number): Promise<Buffer | UnaryFailure> {
  const name = typeof encoding === 'string' ? encoding : 'identity';
  const inflater = inflaters[name];
  if (inflater === undefined) return Promise.resolve({ code: Status.UNIMPLEMENTED, details: `Received message compressed with unsupported encoding "${name}"` });
  return new Promise((resolve) => {
    inflater(bytes, { maxOutputLength: maxMessageBytes }, (err, result) => {
      if (err === null) resolve(result);
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') resolve({ code: Status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${maxMessageBytes})` });
      else resolve({ code: Status.INTERNAL, details: `Error decompressing request: ${err.message}` });
    });
  });
}
