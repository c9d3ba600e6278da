// The default name resolver: a folder shared by the sidecars of one host, one JSON file per
// sidecar, rewritten (atomically) at every heartbeat, as Dapr's SQLite resolver keeps a table
// with heartbeats. An instance whose heartbeat is older than its expiry is ignored, and so is
// one whose process is gone (same host, so a killed sidecar stops receiving calls at once);
// a clean stop removes its file. Works with no configuration and without multicast.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Instance, NameResolver } from './name-resolver.ts';

export interface LocalRegistryOptions {
  /** The shared folder; TESSERA_NAME_REGISTRY, else a per-user folder under the temp folder. */
  dir?: string;
  /** How often this sidecar's file is rewritten. */
  heartbeatMs?: number;
  /** How old a heartbeat may be before its instance is ignored. */
  expiryMs?: number;
  /** How long a lookup of one app id is reused before the folder is read again. */
  cacheMs?: number;
}

const DEFAULT_HEARTBEAT_MS = 1000;
const DEFAULT_EXPIRY_MS = 5000;
const DEFAULT_CACHE_MS = 500;
/** Files larger than this are not registrations (each is ~200 bytes). */
const MAX_FILE_BYTES = 4096;
/** Most instances of one app id read per lookup: a bounded amount of work per call. */
const MAX_INSTANCES = 256;

interface Registration extends Instance {
  hostname: string;
  pid: number;
  heartbeatAt: number;
  expiryMs: number;
}

/** The folder the sidecars of this user share by default. */
export function defaultRegistryDir(): string {
  const configured = process.env.TESSERA_NAME_REGISTRY;
  if (configured) return configured;
  let user: string;
  try {
    user = String(userInfo().uid);
  } catch {
    user = 'shared';
  }
  return join(tmpdir(), `tessera-names-${user}`);
}

/** The file name prefix of every instance of one app id: ids and namespaces are encoded so no name can escape the folder. */
function prefixOf(appId: string, namespace: string): string {
  return `${encodeURIComponent(namespace)}~${encodeURIComponent(appId)}~`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: a process of another user holds the pid, so something is alive there.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LocalRegistry implements NameResolver {
  readonly name = 'sqlite';
  readonly #dir: string;
  readonly #heartbeatMs: number;
  readonly #expiryMs: number;
  readonly #cacheMs: number;
  readonly #host = hostname();
  /** Lookups by app id: the read under way is shared, so a burst of calls reads the folder once. */
  readonly #cache = new Map<string, { at: number; addresses: Promise<string[]> }>();
  readonly #next = new Map<string, number>();
  #file: string | undefined;
  #self: Instance | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The heartbeat being written, which close() waits for so it cannot write the file back after removing it. */
  #beating: Promise<void> = Promise.resolve();

  constructor(options: LocalRegistryOptions = {}) {
    this.#dir = options.dir ?? defaultRegistryDir();
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.#expiryMs = options.expiryMs ?? DEFAULT_EXPIRY_MS;
    this.#cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
  }

  async register(self: Instance): Promise<void> {
    this.#self = self;
    this.#file = join(this.#dir, `${prefixOf(self.appId, self.namespace)}${process.pid}-${randomBytes(4).toString('hex')}.json`);
    await this.#beat();
    // What sidecars killed on this host left behind goes at every start, whichever app ids they had.
    void this.#read('');
    // A missed beat (a full disk, a removed folder) is tried again at the next one; expiry covers the gap.
    this.#timer = setInterval(() => {
      this.#beating = this.#beat().catch(() => {});
    }, this.#heartbeatMs).unref();
  }

  async #beat(): Promise<void> {
    // Read once: close() clears it while a beat may be waiting on mkdir (it wrote `undefined.tmp` into the working folder).
    const file = this.#file;
    if (file === undefined || this.#self === undefined) return;
    const registration: Registration = { ...this.#self, hostname: this.#host, pid: process.pid, heartbeatAt: Date.now(), expiryMs: this.#expiryMs };
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.tmp`;
    await writeFile(temp, JSON.stringify(registration));
    await rename(temp, file);
  }

  async resolve(appId: string, namespace: string): Promise<string | undefined> {
    const key = prefixOf(appId, namespace);
    let cached = this.#cache.get(key);
    if (cached === undefined || Date.now() - cached.at > this.#cacheMs) {
      cached = { at: Date.now(), addresses: this.#read(key) };
      this.#cache.set(key, cached);
    }
    const addresses = await cached.addresses;
    if (addresses.length === 0) return undefined;
    const turn = this.#next.get(key) ?? 0;
    this.#next.set(key, turn + 1);
    return addresses[turn % addresses.length];
  }

  /** The addresses of the live instances whose files start with `prefix` (all of them for ''), removing what dead ones left. */
  async #read(prefix: string): Promise<string[]> {
    const names = (await readdir(this.#dir).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
    // A sidecar killed mid-heartbeat leaves its temp file (named `<prefix><pid>-<random>.json.tmp`): removed once its process is gone.
    for (const name of names.filter((n) => n.endsWith('.json.tmp')).slice(0, MAX_INSTANCES)) {
      const pid = Number(/~(\d+)-[0-9a-f]+\.json\.tmp$/.exec(name)?.[1]);
      if (Number.isInteger(pid) && !isAlive(pid)) await rm(join(this.#dir, name), { force: true });
    }
    const mine = names.filter((n) => n.endsWith('.json')).slice(0, MAX_INSTANCES);
    const now = Date.now();
    const found = await Promise.all(
      mine.map(async (name) => {
        try {
          const text = await readFile(join(this.#dir, name), 'utf8');
          if (text.length > MAX_FILE_BYTES) return undefined;
          const r = JSON.parse(text) as Partial<Registration>;
          if (typeof r.host !== 'string' || typeof r.port !== 'number' || typeof r.heartbeatAt !== 'number') return undefined;
          const expired = now - r.heartbeatAt > (r.expiryMs ?? this.#expiryMs);
          if (expired || (r.hostname === this.#host && typeof r.pid === 'number' && !isAlive(r.pid))) {
            // A sidecar that was killed left its file: whoever finds it first removes it (as Dapr's SQLite resolver cleans up stale rows).
            if (expired || r.pid !== process.pid) await rm(join(this.#dir, name), { force: true });
            return undefined;
          }
          return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
        } catch {
          // Removed between the listing and the read, or not a registration.
          return undefined;
        }
      }),
    );
    return found.filter((a): a is string => a !== undefined).sort();
  }

  forget(appId: string, namespace: string): void {
    this.#cache.delete(prefixOf(appId, namespace));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    const file = this.#file;
    this.#file = undefined;
    await this.#beating;
    if (file !== undefined) await rm(file, { force: true });
  }
}
