// Headers across a service invocation, as daprd carries them: the caller's HTTP headers become
// the internal request's metadata (lowercased, every value kept), and the callee's metadata its
// app's headers again; the app's answer comes back the same way. What only means something on
// one connection (hop-by-hop headers, the length, the host), the caller's API token and the
// `dapr-app-id` routing header never cross; the caller adds `dapr-caller-app-id`,
// `dapr-callee-app-id` and the `X-Forwarded-*`/`Forwarded` set.
import { hostname, networkInterfaces } from 'node:os';
import { STATUS_DETAILS_TRAILER } from '../../app-channel/app-callbacks.ts';
import type { ListStringValue } from './internal-protos.ts';

/** Headers that never cross: per-connection, recomputed, or the sidecar's own. */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
  'dapr-api-token',
  'dapr-app-id',
]);

/** Metadata gRPC itself sets (`:authority`, `grpc-timeout`, binary `-bin` entries) is not a header; a trailer may be the status details. */
function crosses(name: string, trailer = false): boolean {
  if (trailer && name === STATUS_DETAILS_TRAILER) return true;
  return !DROPPED.has(name) && !name.startsWith(':') && !name.startsWith('grpc-') && !name.endsWith('-bin');
}

export type HeaderValues = Record<string, string | string[] | undefined>;

/** HTTP headers (or, with `trailers`, a gRPC app's trailers) as internal metadata. */
export function headersToMetadata(headers: HeaderValues, trailers = false): Record<string, ListStringValue> {
  const metadata: Record<string, ListStringValue> = {};
  for (const [raw, value] of Object.entries(headers)) {
    const name = raw.toLowerCase();
    if (value === undefined || !crosses(name, trailers)) continue;
    const values = Array.isArray(value) ? value : [value];
    const entry = metadata[name];
    if (entry === undefined) metadata[name] = { values: [...values] };
    else entry.values.push(...values);
  }
  return metadata;
}

/** Internal metadata as HTTP headers (or, with `trailers`, as a gRPC app's trailers), every value kept. */
export function metadataToHeaders(metadata: Record<string, ListStringValue>, trailers = false): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const [raw, entry] of Object.entries(metadata)) {
    const name = raw.toLowerCase();
    if (!crosses(name, trailers) || entry.values.length === 0) continue;
    (headers[name] ??= []).push(...entry.values);
  }
  return headers;
}

/** Headers (or trailers) as they may cross to the other side (the same filter as headersToMetadata's), every value kept. */
export function crossingHeaders(headers: HeaderValues, trailers = false): Record<string, string[]> {
  return metadataToHeaders(headersToMetadata(headers, trailers), trailers);
}

/** The first IPv4 address of this host that is not loopback, as daprd's X-Forwarded-For gives it. */
function hostAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

let forwarded: { for: string; host: string } | undefined;

/** Adds what the caller's sidecar says about the call: who calls whom, and from where. */
export function addCallerHeaders(metadata: Record<string, ListStringValue>, callerAppId: string, calleeAppId: string): void {
  forwarded ??= { for: hostAddress(), host: hostname() };
  const add = (name: string, value: string): void => {
    const entry = metadata[name];
    if (entry === undefined) metadata[name] = { values: [value] };
    else entry.values.push(value);
  };
  metadata['dapr-caller-app-id'] = { values: [callerAppId] };
  metadata['dapr-callee-app-id'] = { values: [calleeAppId] };
  add('x-forwarded-for', forwarded.for);
  add('x-forwarded-host', forwarded.host);
  add('x-forwarded-proto', 'http');
  add('forwarded', `for=${forwarded.for};by=${forwarded.for};host=${forwarded.host};proto=http`);
}

/** One value per header, as a client request takes them (repeated request headers joined, as HTTP allows). */
export function joinedHeaders(headers: Record<string, string[]>): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const [name, values] of Object.entries(headers)) joined[name] = values.join(name === 'cookie' ? '; ' : ', ');
  return joined;
}
