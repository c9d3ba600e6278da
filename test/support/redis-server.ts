// A redis-server of the test's own on a free loopback port, without persistence, in a temp
// folder of its own (its working directory). Every wait is bounded; `stop()` kills it and
// removes the folder, and a server a failed test left running is killed when the test
// process exits.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './test-app.ts';

const running = new Set<RedisServer>();
process.once('exit', () => {
  for (const server of running) server.kill();
});

/** A Component YAML of `type` (state.redis, pubsub.redis) for the Redis at `address` (granted to it), with `metadata` added. */
export function redisComponentYaml(name: string, type: string, address: string, metadata: Record<string, string> = {}): string {
  const items = Object.entries({ redisHost: address, ...metadata }).map(([key, value]) => `    - name: ${key}\n      value: ${JSON.stringify(value)}\n`);
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
  annotations:
    tessera.dev/allow-tcp: "${address}"
spec:
  type: ${type}
  version: v1
  metadata:
${items.join('')}`;
}

/** A pubsub.redis Component YAML for the Redis at `address` (granted to it), with `metadata` added. */
export function redisPubSubYaml(name: string, address: string, metadata: Record<string, string> = {}): string {
  return redisComponentYaml(name, 'pubsub.redis', address, metadata);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RedisServerOptions {
  /** The port; a free one when omitted. */
  port?: number;
  /** More redis-server flags (`--requirepass`, `--rename-command`, ...). */
  args?: string[];
}

export class RedisServer {
  readonly port: number;
  #dir: string;
  readonly #args: readonly string[];
  #process: ChildProcess | undefined;

  private constructor(port: number, args: readonly string[]) {
    this.port = port;
    this.#args = args;
    this.#dir = '';
  }

  /** Starts one (on `port`, else a free one) and waits (up to 5 s) until it answers PING. */
  static async start(options: RedisServerOptions | number = {}): Promise<RedisServer> {
    const { port, args = [] } = typeof options === 'number' ? { port: options } : options;
    const server = new RedisServer(port ?? (await freePort()), args);
    await server.restart();
    return server;
  }

  /** Its working directory (empty: it keeps nothing on disk). */
  get dir(): string {
    return this.#dir;
  }

  /** Starts it again, on the same port with the same flags, after `stop()` (an outage, as a test plays it). */
  async restart(): Promise<void> {
    if (this.#process !== undefined) throw new Error(`redis-server on ${this.address} is running: stop it first`);
    this.#dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
    running.add(this);
    try {
      await this.#spawn();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** `127.0.0.1:<port>`, as `redisHost` and `tessera.dev/allow-tcp` take it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async #spawn(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.#dir, '--loglevel', 'warning', ...this.#args];
    const child = spawn('redis-server', args, { cwd: this.#dir, stdio: 'ignore' });
    this.#process = child;
    let failed: Error | undefined;
    child.once('error', (err) => (failed = err));
    for (let i = 0; i < 100; i++) {
      if (failed) throw new Error(`redis-server could not start: ${failed.message}`);
      if (child.exitCode !== null) throw new Error(`redis-server exited (code ${child.exitCode}) on ${this.address}`);
      // NOAUTH: up, and asking for the password it was started with.
      if (await this.cli('PING').then((out) => /^(PONG|NOAUTH)/.test(out.trim()), () => false)) return;
      await sleep(50);
    }
    throw new Error(`redis-server did not answer PING on ${this.address} within 5 s`);
  }

  /** One command through redis-cli (`--raw`: each value on a line of its own), with the server's password if it has one; fails after 5 s. */
  cli(...args: string[]): Promise<string> {
    const pass = this.#args.indexOf('--requirepass');
    const auth = pass === -1 ? [] : ['--no-auth-warning', '-a', this.#args[pass + 1]!];
    return new Promise((resolve, reject) => {
      execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...auth, '--raw', ...args], { timeout: 5000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve(stdout),
      );
    });
  }

  /** The consumer groups of a stream (none while the stream does not exist). */
  async groups(stream: string): Promise<string[]> {
    const lines = (await this.cli('XINFO', 'GROUPS', stream).catch(() => '')).split('\n');
    return lines.flatMap((line, i) => (line === 'name' ? [lines[i + 1]!] : []));
  }

  /** SIGKILL, synchronously (for the exit hook). */
  kill(): void {
    this.#process?.kill('SIGKILL');
    if (this.#dir !== '') rmSync(this.#dir, { recursive: true, force: true });
  }

  /** Kills the server, waits (bounded) for it to exit, and removes its folder. */
  async stop(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    running.delete(this);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(5000)]);
    }
    if (this.#dir !== '') rmSync(this.#dir, { recursive: true, force: true });
  }
}
