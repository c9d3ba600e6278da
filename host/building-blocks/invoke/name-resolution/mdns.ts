// Dapr's mDNS resolver (`component: mdns`), for sidecars on several hosts of one network, on
// the wire as Dapr's (components-contrib nameresolution/mdns, over grandcat/zeroconf): each
// sidecar is a DNS-SD instance `<host>:<pid>:<port>.<app-id>.local` of the service
// `<app-id>.local`, answering a PTR query for it with PTR, SRV (its internal gRPC port), TXT
// (the app id) and A/AAAA (its address) in one packet. A caller queries the app id on a miss,
// takes the first answer (or gives up after a timeout), caches every instance that answers
// for at most the record's TTL (60 s by default, Dapr's address TTL), asks again every half
// TTL so live ones stay, and balances round robin. A clean stop multicasts the records with
// TTL 0 (a goodbye), which drops the instance at once; one that vanished expires.
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import makeMdns from 'multicast-dns';
import type { Answer, Question } from 'dns-packet';
import { TesseraError } from '../../../errors.ts';
import type { Instance, NameResolver } from './name-resolver.ts';

export interface MdnsOptions {
  /** IPv4 address of the network interface to multicast on (and listen on); every interface by default. */
  interface?: string;
  /** The IP other sidecars call this one on; the internal gRPC API's listen address by default. */
  address?: string;
  /** UDP port: 5353, mDNS's, by default. */
  port?: number;
  /** How long an answer is trusted: the TTL advertised, and the most a cached instance lives without a fresh answer. */
  ttlMs?: number;
  /** How often cached app ids are asked again; half the TTL by default. */
  refreshMs?: number;
  /** How long resolve() waits for a first answer before reporting the app id unknown. */
  resolveTimeoutMs?: number;
}

const DEFAULT_TTL_MS = 60_000;
const DEFAULT_RESOLVE_TIMEOUT_MS = 1000;
/** RFC 6762 §8.3: at least two unsolicited announcements, one second apart. */
const ANNOUNCE_GAP_MS = 1000;
/** The fewest milliseconds between two of our answers: a flood of queries gets one answer per gap, never one each. */
const ANSWER_GAP_MS = 100;
/** Records and questions read from one packet: bounded work per packet, whatever its header claims. */
const MAX_RECORDS = 64;
const MAX_QUESTIONS = 32;
/** App ids cached (the least recently resolved goes first) and instances per app id. */
const MAX_APPS = 256;
const MAX_INSTANCES = 64;
/** Questions per refresh query: one UDP packet stays well under the 9000-byte mDNS limit. */
const QUESTIONS_PER_QUERY = 32;
const SERVICES_META = '_services._dns-sd._udp.local';

interface Cached {
  address: string;
  expiresAt: number;
}

interface App {
  appId: string;
  /** Instances by instance name (lowercase). */
  instances: Map<string, Cached>;
  turn: number;
  usedAt: number;
  /** Woken when an instance is added: a resolve() waiting on the first answer. */
  waiters: Set<() => void>;
  /** The query under way on a miss, which concurrent resolve() calls share: a burst sends one query, not one each. */
  asking: Promise<void> | undefined;
}

/** The labels mDNS can carry: one DNS label, so no dots, at most 63 bytes. */
function isLabel(text: string): boolean {
  return text.length > 0 && !text.includes('.') && Buffer.byteLength(text) <= 63;
}

const serviceOf = (appId: string) => `${appId}.local`.toLowerCase();

export class MdnsResolver implements NameResolver {
  readonly name = 'mdns';
  readonly #options: MdnsOptions;
  readonly #ttlMs: number;
  readonly #apps = new Map<string, App>();
  #socket: Promise<makeMdns.MulticastDNS> | undefined;
  /** This sidecar's records, once registered. */
  #self: { service: string; instance: string; target: string; records: (ttl: number) => Answer[] } | undefined;
  #refresh: NodeJS.Timeout | undefined;
  #announce: NodeJS.Timeout | undefined;
  #answerPending: NodeJS.Timeout | undefined;
  #answeredAt = 0;
  #closed = false;

  constructor(options: MdnsOptions = {}) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  }

  /** The multicast socket, bound once: a port in use or refused rejects, naming it. */
  #open(): Promise<makeMdns.MulticastDNS> {
    this.#socket ??= new Promise((resolve, reject) => {
      const port = this.#options.port ?? 5353;
      const iface = this.#options.interface;
      // Bound to every address even with an interface: a socket bound to a unicast address does not receive multicast.
      const mdns = makeMdns({ port, ...(iface === undefined ? {} : { interface: iface, bind: '0.0.0.0' }), reuseAddr: true, loopback: true });
      let ready = false;
      mdns.once('ready', () => {
        ready = true;
        if (!this.#closed) this.#refresh = setInterval(() => this.#refreshAll(), this.#options.refreshMs ?? this.#ttlMs / 2).unref();
        resolve(mdns);
      });
      mdns.on('error', (err: Error) => {
        if (ready) return;
        mdns.destroy();
        // Tried again at the next call: the port may be free by then.
        this.#socket = undefined;
        reject(new TesseraError('ERR_DIRECT_INVOKE', `mDNS name resolution cannot use UDP port ${port}${iface ? ` on ${iface}` : ''}: ${err.message}`));
      });
      // Undecodable packets and interfaces that come and go: nothing to act on.
      mdns.on('warning', () => {});
      mdns.on('query', (packet) => this.#guard(() => this.#onQuery(packet.questions)));
      mdns.on('response', (packet) => this.#guard(() => this.#onResponse([...(packet.answers ?? []).slice(0, MAX_RECORDS), ...(packet.additionals ?? []).slice(0, MAX_RECORDS)])));
    });
    return this.#socket;
  }

  /** A packet that decodes but holds odd values is dropped, never thrown into the socket's event loop. */
  #guard(handle: () => void): void {
    try {
      handle();
    } catch {
      // Malformed: ignored, as an undecodable one is.
    }
  }

  async register(self: Instance): Promise<void> {
    if (!isLabel(self.appId)) throw new TesseraError('ERR_DIRECT_INVOKE', `app id "${self.appId.slice(0, 80)}" cannot be advertised over mDNS: it must be one DNS label (no dots, at most 63 bytes)`);
    const address = this.#options.address ?? self.host;
    const family = isIP(address);
    if (family === 0) throw new TesseraError('ERR_DIRECT_INVOKE', `mDNS advertises an IP address, not "${address}"; set spec.nameResolution.configuration.address`);
    const host = (hostname().split('.')[0] || 'tessera').slice(0, 40);
    const service = serviceOf(self.appId);
    const instance = `${host}:${process.pid}:${self.port}.${service}`;
    const target = `${host}.local`;
    const records = (ttl: number): Answer[] => [
      { name: service, type: 'PTR', ttl, data: instance },
      { name: instance, type: 'SRV', ttl, flush: true, data: { priority: 0, weight: 0, port: self.port, target } },
      { name: instance, type: 'TXT', ttl, flush: true, data: [self.appId] },
      family === 4 ? { name: target, type: 'A', ttl, flush: true, data: address } : { name: target, type: 'AAAA', ttl, flush: true, data: address },
      { name: SERVICES_META, type: 'PTR', ttl, data: service },
    ];
    const mdns = await this.#open();
    this.#self = { service, instance, target, records };
    // Announced twice, so callers already caching the app id add this instance without asking.
    mdns.respond({ answers: records(this.#ttlSeconds()) });
    this.#answeredAt = Date.now();
    this.#announce = setTimeout(() => this.#answer(), ANNOUNCE_GAP_MS).unref();
  }

  #ttlSeconds(): number {
    return Math.max(1, Math.ceil(this.#ttlMs / 1000));
  }

  #onQuery(questions: Question[] | undefined): void {
    const self = this.#self;
    if (self === undefined || !Array.isArray(questions)) return;
    const asked = questions.slice(0, MAX_QUESTIONS).some((q) => {
      const name = typeof q?.name === 'string' ? q.name.toLowerCase() : '';
      return name === self.service || name === self.instance || name === self.target || name === SERVICES_META;
    });
    if (asked) this.#answer();
  }

  /** Multicasts this sidecar's records, at most once per ANSWER_GAP_MS: queries inside a gap share the answer sent at its end. */
  #answer(): void {
    if (this.#self === undefined || this.#closed || this.#answerPending !== undefined) return;
    const wait = this.#answeredAt + ANSWER_GAP_MS - Date.now();
    this.#answerPending = setTimeout(
      () => {
        this.#answerPending = undefined;
        if (this.#self === undefined || this.#closed) return;
        this.#answeredAt = Date.now();
        void this.#socket?.then((mdns) => mdns.respond({ answers: this.#self!.records(this.#ttlSeconds()) })).catch(() => {});
      },
      Math.max(0, wait),
    ).unref();
  }

  /** Adds (or, at TTL 0, removes) the instances of cached app ids a response describes: PTR, SRV and an address in one packet, as zeroconf reads them. */
  #onResponse(records: Answer[]): void {
    const ptrs: { service: string; instance: string; ttl: number }[] = [];
    const srvs = new Map<string, { port: number; target: string; ttl: number }>();
    const txts = new Map<string, string[]>();
    const addresses = new Map<string, string[]>();
    for (const r of records) {
      if (typeof r?.name !== 'string') continue;
      const name = r.name.toLowerCase();
      const ttl = 'ttl' in r && typeof r.ttl === 'number' ? r.ttl : 0;
      if (r.type === 'PTR' && typeof r.data === 'string') ptrs.push({ service: name, instance: r.data.toLowerCase(), ttl });
      else if (r.type === 'SRV' && typeof r.data?.port === 'number' && typeof r.data.target === 'string') srvs.set(name, { port: r.data.port, target: r.data.target.toLowerCase(), ttl });
      else if (r.type === 'TXT' && Array.isArray(r.data)) txts.set(name, r.data.map(String));
      else if ((r.type === 'A' || r.type === 'AAAA') && typeof r.data === 'string' && isIP(r.data) !== 0) {
        const list = addresses.get(name) ?? [];
        // IPv4 first, as Dapr prefers it.
        if (r.type === 'A') list.unshift(r.data);
        else list.push(`[${r.data}]`);
        addresses.set(name, list);
      }
    }
    const now = Date.now();
    for (const ptr of ptrs) {
      const app = this.#apps.get(ptr.service);
      const srv = srvs.get(ptr.instance);
      if (app === undefined || srv === undefined) continue;
      if (ptr.ttl === 0 || srv.ttl === 0) {
        app.instances.delete(ptr.instance);
        continue;
      }
      // Dapr's resolver takes an instance only when its TXT is the app id.
      const txt = txts.get(ptr.instance);
      if (txt !== undefined && txt[0] !== app.appId) continue;
      const ip = addresses.get(srv.target)?.[0];
      if (ip === undefined || srv.port < 1 || srv.port > 65535) continue;
      if (!app.instances.has(ptr.instance) && app.instances.size >= MAX_INSTANCES) this.#prune(app, now);
      if (!app.instances.has(ptr.instance) && app.instances.size >= MAX_INSTANCES) continue;
      app.instances.set(ptr.instance, { address: `${ip}:${srv.port}`, expiresAt: now + Math.min(Math.min(ptr.ttl, srv.ttl) * 1000, this.#ttlMs) });
      for (const wake of app.waiters) wake();
      app.waiters.clear();
    }
  }

  #prune(app: App, now: number): string[] {
    for (const [name, cached] of app.instances) if (cached.expiresAt <= now) app.instances.delete(name);
    return [...app.instances.values()].map((c) => c.address).sort();
  }

  /** The cache entry of `appId`, made (evicting the least recently resolved app id when full). */
  #track(appId: string): App {
    const key = serviceOf(appId);
    let app = this.#apps.get(key);
    if (app === undefined) {
      if (this.#apps.size >= MAX_APPS) {
        let oldest: [string, App] | undefined;
        for (const entry of this.#apps) if (entry[1].waiters.size === 0 && (oldest === undefined || entry[1].usedAt < oldest[1].usedAt)) oldest = entry;
        if (oldest !== undefined) this.#apps.delete(oldest[0]);
      }
      app = { appId, instances: new Map(), turn: 0, usedAt: Date.now(), waiters: new Set(), asking: undefined };
      this.#apps.set(key, app);
    }
    app.usedAt = Date.now();
    return app;
  }

  async resolve(appId: string, _namespace: string): Promise<string | undefined> {
    // Dapr's mDNS resolver has no namespaces: the app id alone names the service.
    if (this.#closed || !isLabel(appId)) return undefined;
    const mdns = await this.#open();
    const app = this.#track(appId);
    let live = this.#prune(app, Date.now());
    if (live.length === 0) {
      app.asking ??= new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          app.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, this.#options.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS);
        app.waiters.add(done);
        mdns.query({ questions: [{ name: serviceOf(appId), type: 'PTR' }] });
      }).finally(() => {
        app.asking = undefined;
      });
      await app.asking;
      live = this.#prune(app, Date.now());
      if (live.length === 0) return undefined;
    }
    return live[app.turn++ % live.length];
  }

  /** Asks again for every cached app id, so live instances are renewed before they expire; app ids unused for long are dropped. */
  #refreshAll(): void {
    const now = Date.now();
    const names: string[] = [];
    for (const [key, app] of this.#apps) {
      this.#prune(app, now);
      if (now - app.usedAt > 10 * this.#ttlMs && app.instances.size === 0) this.#apps.delete(key);
      else names.push(key);
    }
    if (names.length === 0) return;
    void this.#socket?.then((mdns) => {
      for (let i = 0; i < names.length; i += QUESTIONS_PER_QUERY) {
        mdns.query({ questions: names.slice(i, i + QUESTIONS_PER_QUERY).map((name) => ({ name, type: 'PTR' as const })) });
      }
    }).catch(() => {});
  }

  forget(appId: string, _namespace: string): void {
    // The next resolve() asks the network again; the instances still alive answer at once.
    this.#apps.get(serviceOf(appId))?.instances.clear();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#refresh);
    clearTimeout(this.#announce);
    clearTimeout(this.#answerPending);
    for (const app of this.#apps.values()) for (const wake of [...app.waiters]) wake();
    const socket = this.#socket?.catch(() => undefined);
    const mdns = await socket;
    if (mdns === undefined) return;
    const self = this.#self;
    // The goodbye: the same records with TTL 0, so callers drop this instance now rather than at expiry.
    if (self !== undefined) await new Promise<void>((resolve) => mdns.respond({ answers: self.records(0) }, () => resolve()));
    await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
  }
}
