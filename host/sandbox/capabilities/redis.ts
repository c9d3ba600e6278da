// `redis`: commands to the Redis servers a component's YAML grants for tcp
// (`tessera.dev/allow-tcp`), pipelined on one connection per server, user and database that
// every instance of the component shares (redis-pipeline.ts). The host checks the commands'
// framing and refuses those that would change the shared connection (resp-frames.ts); the
// component parses the replies itself. A connection closes when the last instance holding a
// handle on it is dropped.
import type { WitError, WitResult } from '../../../abi/ts/types.ts';
import type { Capability, CapabilityContext } from './capability.ts';
import { checkCommands } from './resp-frames.ts';
import { RedisPipeline, type RedisAddress } from './redis-pipeline.ts';
import { ALLOW_TCP, grantKey, parseHostPorts, refusedAddress } from './tcp.ts';

/** Replies a call may take when it names no cap, and the most any may. */
export const DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024;
export const HOST_MAX_REPLY_BYTES = 64 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
/** At most this many open handles per instance. */
const MAX_HANDLES = 64;

const ok = <T>(val: T): WitResult<T> => ({ tag: 'ok', val });
const err = (tag: WitError['tag'], val: string): WitResult<never> => ({ tag: 'err', val: { tag, val } });

/** The pipelines of one component, by address and credentials, with the handles on each. */
interface SharedPipeline {
  pipeline: RedisPipeline;
  handles: number;
}

const SCOPE_KEY = 'redis:pipelines';

function build({ component, logger, grant, shared, onDispose, memoryLimitBytes }: CapabilityContext<readonly string[]>) {
  const allowed = new Set(grant.map((g) => g.toLowerCase()));
  const pipelines = (shared.get(SCOPE_KEY) as Map<string, SharedPipeline> | undefined) ?? new Map<string, SharedPipeline>();
  shared.set(SCOPE_KEY, pipelines);
  const handles = new Map<number, { key: string; entry: SharedPipeline }>();
  let nextId = 1;

  const release = (id: number): void => {
    const handle = handles.get(id);
    if (handle === undefined) return;
    handles.delete(id);
    if (--handle.entry.handles === 0 && pipelines.get(handle.key) === handle.entry) {
      pipelines.delete(handle.key);
      handle.entry.pipeline.close();
    }
  };
  onDispose(() => {
    for (const id of [...handles.keys()]) release(id);
  });

  return {
    open(host: string, port: number, username: string, password: string, db: number, connectTimeoutMs: number): WitResult<number> {
      const address = grantKey(host, port);
      const refused = refusedAddress(allowed, address, component, 'redis at');
      if (refused !== undefined) return err('invalid-argument', refused);
      if (handles.size >= MAX_HANDLES) return err('unavailable', `component "${component}" already has ${MAX_HANDLES} open redis handles in one instance`);
      const settings: RedisAddress = { host, port, username, password, db, connectTimeoutMs: connectTimeoutMs > 0 ? connectTimeoutMs : DEFAULT_TIMEOUT_MS };
      const key = JSON.stringify([address, username, password, db]);
      let entry = pipelines.get(key);
      if (entry === undefined) {
        entry = { pipeline: new RedisPipeline(settings, (message) => logger.warn(`component "${component}": ${message}`)), handles: 0 };
        pipelines.set(key, entry);
      }
      entry.handles++;
      const id = nextId++;
      handles.set(id, { key, entry });
      return ok(id);
    },

    execute(id: number, commands: Uint8Array, count: number, timeoutMs: number, maxReplyBytes: number): Promise<WitResult<Uint8Array>> | WitResult<Uint8Array> {
      const handle = handles.get(id);
      if (handle === undefined) return err('invalid-argument', `redis handle ${id} is not open`);
      const pipeline = handle.entry.pipeline;
      const wrong = checkCommands(commands, count);
      if (wrong !== undefined) return err('invalid-argument', `commands for ${pipeline.name}: ${wrong}`);
      const timeout = timeoutMs > 0 ? timeoutMs : DEFAULT_TIMEOUT_MS;
      // Never more than the instance's memory could take: the host holds a call's replies until they are complete.
      const cap = Math.min(maxReplyBytes > 0 ? maxReplyBytes : DEFAULT_MAX_REPLY_BYTES, HOST_MAX_REPLY_BYTES, memoryLimitBytes);
      return pipeline.execute(commands, count, timeout, cap);
    },

    close(id: number): void {
      release(id);
    },
  };
}

export const redisCapability: Capability<readonly string[]> = {
  interface: 'redis',
  async: new Set(['execute']),
  // The same grant as tcp: a server a component may open a socket to, it may send commands to.
  grant: { annotation: ALLOW_TCP, parse: parseHostPorts, sharedWith: 'tcp' },
  build,
};
