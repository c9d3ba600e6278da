// `tcp`: outbound connections to the `host:port` pairs the component's YAML grants
// (`tessera.dev/allow-tcp`), and to nothing else. A call that must wait suspends the component
// (JSPI) while the event loop serves; one the host can answer at once (a write the socket
// takes, a read of bytes already here) does not. Reads are buffered with backpressure, and
// every socket is destroyed with its instance.
import { Socket } from 'node:net';
import type { WitError, WitResult } from '../../../abi/ts/types.ts';
import type { Capability, CapabilityContext } from './capability.ts';

/** The annotation that grants tcp: `host:port` pairs, comma-separated. */
export const ALLOW_TCP = 'tessera.dev/allow-tcp';

/** At most this many open connections per instance. */
const MAX_CONNECTIONS = 64;
/** Reading pauses the socket while this much is buffered and unread. */
const HIGH_WATER = 1024 * 1024;

interface Connection {
  socket: Socket;
  chunks: Buffer[];
  buffered: number;
  ended: boolean;
  error: string | undefined;
  /** Wakes a read waiting for data or the end. */
  wake: (() => void) | undefined;
}

const ok = <T>(val: T): WitResult<T> => ({ tag: 'ok', val });
const err = (tag: WitError['tag'], val: string): WitResult<never> => ({ tag: 'err', val: { tag, val } });

/** A host as a socket takes it: lower case, IPv6 without its brackets (`::1`). */
export const bare = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/** The allow-list entry a connection must match: `host:port`, `[v6]:port`. */
export const grantKey = (host: string, port: number): string => {
  const h = bare(host);
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
};

/**
 * Why `component` may not reach `key` (`host:port` as grantKey gives it) with `what` (`tcp
 * connect`, `redis`), or undefined when its grant allows it: the tcp and redis capabilities
 * share the grant, and so this check.
 */
export function refusedAddress(allowed: ReadonlySet<string>, key: string, component: string, what: string): string | undefined {
  if (allowed.has(key)) return undefined;
  const granted = allowed.size > 0 ? `it may connect to ${[...allowed].join(', ')}` : 'it has no tcp grant';
  return `${what} ${key} is not allowed for component "${component}": ${granted}; grant it with the annotation ${ALLOW_TCP}`;
}

/** `127.0.0.1:6379, redis:6380` -> ['127.0.0.1:6379', 'redis:6380']; at least one pair. */
export function parseHostPorts(value: string): string[] {
  const pairs = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const match = /^(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      if (!match || Number(match[2]) > 65535) throw new Error(`must list host:port pairs, got "${entry}"`);
      return entry.toLowerCase();
    });
  if (pairs.length === 0) throw new Error(`must list at least one host:port pair, got "${value}"`);
  return pairs;
}

function build({ component, grant, onDispose }: CapabilityContext<readonly string[]>) {
  const allowed = new Set(grant.map((g) => g.toLowerCase()));
  const connections = new Map<number, Connection>();
  let nextId = 1;
  onDispose(() => {
    for (const c of connections.values()) c.socket.destroy();
    connections.clear();
  });

  const take = (c: Connection, max: number): Uint8Array => {
    const all = c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks);
    const out = all.subarray(0, max);
    const rest = all.subarray(out.length);
    c.chunks = rest.length > 0 ? [rest] : [];
    c.buffered = rest.length;
    if (c.buffered < HIGH_WATER && c.socket.isPaused()) c.socket.resume();
    return new Uint8Array(out);
  };

  return {
    connect(host: string, port: number, timeoutMs: number): Promise<WitResult<number>> | WitResult<number> {
      const key = grantKey(host, port);
      const refused = refusedAddress(allowed, key, component, 'tcp connect to');
      if (refused !== undefined) return err('invalid-argument', refused);
      if (connections.size >= MAX_CONNECTIONS) return err('unavailable', `component "${component}" already has ${MAX_CONNECTIONS} open tcp connections`);
      return new Promise((resolve) => {
        const socket = new Socket();
        const timer = setTimeout(() => {
          socket.destroy();
          resolve(err('unavailable', `tcp connect to ${key} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        socket.once('error', (e) => {
          clearTimeout(timer);
          resolve(err('unavailable', `tcp connect to ${key} failed: ${e.message}`));
        });
        socket.connect({ host: bare(host), port }, () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          socket.setNoDelay(true);
          const c: Connection = { socket, chunks: [], buffered: 0, ended: false, error: undefined, wake: undefined };
          socket.on('data', (chunk: Buffer) => {
            c.chunks.push(chunk);
            c.buffered += chunk.length;
            if (c.buffered >= HIGH_WATER) socket.pause();
            c.wake?.();
          });
          const end = (e?: Error): void => {
            c.ended = true;
            if (e) c.error = e.message;
            c.wake?.();
          };
          socket.on('end', () => end());
          socket.on('close', () => end());
          socket.on('error', (e) => end(e));
          const id = nextId++;
          connections.set(id, c);
          resolve(ok(id));
        });
      });
    },

    write(id: number, data: Uint8Array): Promise<WitResult<undefined>> | WitResult<undefined> {
      const c = connections.get(id);
      if (!c) return err('invalid-argument', `tcp connection ${id} is not open`);
      if (c.ended || c.socket.destroyed) return err('unavailable', `tcp connection ${id} is closed${c.error ? `: ${c.error}` : ''}`);
      // The socket takes the bytes at once while its buffer has room: the component goes on
      // (to its read) without a suspension; a failure shows on that read. Only a full buffer
      // suspends it, until the socket drains.
      if (c.socket.write(data)) return ok(undefined);
      return new Promise((resolve) => {
        const done = (): void => {
          c.socket.off('drain', done);
          c.socket.off('close', done);
          resolve(c.ended ? err('unavailable', `tcp write failed: connection ${id} closed${c.error ? `: ${c.error}` : ''}`) : ok(undefined));
        };
        c.socket.on('drain', done);
        c.socket.on('close', done);
      });
    },

    read(id: number, maxBytes: number, timeoutMs: number): Promise<WitResult<Uint8Array>> | WitResult<Uint8Array> {
      const c = connections.get(id);
      if (!c) return err('invalid-argument', `tcp connection ${id} is not open`);
      if (c.buffered > 0) return ok(take(c, maxBytes));
      if (c.ended) return err('unavailable', `tcp connection ${id} was closed by the peer${c.error ? `: ${c.error}` : ''}`);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          c.wake = undefined;
          resolve(ok(new Uint8Array(0)));
        }, timeoutMs);
        c.wake = () => {
          c.wake = undefined;
          clearTimeout(timer);
          if (c.buffered > 0) resolve(ok(take(c, maxBytes)));
          else resolve(err('unavailable', `tcp connection ${id} was closed by the peer${c.error ? `: ${c.error}` : ''}`));
        };
      });
    },

    close(id: number): void {
      connections.get(id)?.socket.destroy();
      connections.delete(id);
    },
  };
}

export const tcpCapability: Capability<readonly string[]> = {
  interface: 'tcp',
  async: new Set(['connect', 'write', 'read']),
  grant: { annotation: ALLOW_TCP, parse: parseHostPorts },
  build,
};
