// Runs the real `tessera` CLI as a child process, as a user would: a free port, its own temp
// resources folder, its log lines collected. Every wait is bounded. `stop()` (call it in an
// `after` hook) ends the process and removes the folder; anything a failed test left running
// is killed, and its folder removed, when the test process exits.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { copyFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TESSERA_CLI = fileURLToPath(new URL('../../host/cli/tessera.ts', import.meta.url));
export const STATE_MEMORY_WASM = fileURLToPath(new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url));

const LISTENING = /dapr HTTP API listening on (http:\/\/[\d.]+:(\d+))/;
const GRPC_LISTENING = /dapr gRPC API listening on [\d.]+:(\d+)/;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A Dapr `Component` YAML, as a user drops it into the resources folder. */
export function componentYaml(name: string, type = 'state.memory', metadata: Record<string, string> = {}): string {
  const items = Object.entries(metadata).map(([key, value]) => `  - name: ${key}\n    value: ${JSON.stringify(value)}\n`);
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: ${type}
  version: v1
${items.length > 0 ? `  metadata:\n${items.join('')}` : ''}`;
}

/** Asserts a Dapr error answer (`{ errorCode, message }` with `status`); resolves to the message. */
export async function expectDaprError(response: Promise<Response>, status: number, errorCode: string, message?: RegExp): Promise<string> {
  const res = await response;
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as { errorCode: string; message: string };
  assert.equal(body.errorCode, errorCode, text);
  if (message !== undefined) assert.match(body.message, message);
  return body.message;
}

/**
 * Polls `probe` until it returns something other than undefined; fails after `timeoutMs`
 * saying what it waited for (`what` may be a function, to describe the last state seen).
 */
export async function pollUntil<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 5000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last error: ${(lastError as Error).message ?? String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The environment a child gets: ours without the test runner's and Dapr's own variables. */
function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['NODE_TEST_CONTEXT', 'DAPR_API_TOKEN', 'DAPR_HTTP_PORT', 'APP_ID']) delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** One line of output; for a sidecar log line, its level, scope and decoded message. */
export interface LogEntry {
  line: string;
  level?: string;
  scope?: string;
  /** The `msg` field, unescaped; the whole line for output that is not a log line (the app's). */
  message: string;
}

export type LogMatcher = RegExp | ((entry: LogEntry) => boolean);

const LOG_LINE = /^time="[^"]*" level=(\w+) scope=(\S+) msg=("(?:[^"\\]|\\.)*")/;

function parseLogLine(line: string): LogEntry {
  const match = LOG_LINE.exec(line);
  if (!match) return { line, message: line };
  return { line, level: match[1]!, scope: match[2]!, message: JSON.parse(match[3]!) as string };
}

const matches = (matcher: LogMatcher, entry: LogEntry): boolean =>
  typeof matcher === 'function' ? matcher(entry) : matcher.test(entry.message);

/** Collects a child's stdout and stderr as log entries and lets callers wait for one. */
class LogLines {
  readonly entries: LogEntry[] = [];
  #waiters = new Set<{ matcher: LogMatcher; resolve: (entry: LogEntry) => void }>();

  attach(stream: NodeJS.ReadableStream): void {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) this.#push(line);
    });
    stream.on('end', () => {
      if (partial !== '') this.#push(partial);
      partial = '';
    });
  }

  /** Adds a line of the test's own, for diagnostics. */
  note(line: string): void {
    this.#push(`[sidecar-process] ${line}`);
  }

  #push(line: string): void {
    const entry = parseLogLine(line);
    this.entries.push(entry);
    for (const waiter of this.#waiters) {
      if (matches(waiter.matcher, entry)) {
        this.#waiters.delete(waiter);
        waiter.resolve(entry);
      }
    }
  }

  text(): string {
    return this.entries.map((e) => e.line).join('\n');
  }

  /** The first entry, already logged or still to come, that `matcher` accepts. */
  waitFor(matcher: LogMatcher, timeoutMs: number, exited: Promise<Exit>): Promise<LogEntry> {
    const seen = this.entries.find((entry) => matches(matcher, entry));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        matcher,
        resolve: (entry: LogEntry) => {
          clearTimeout(timer);
          resolve(entry);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no log line matching ${String(matcher)} within ${timeoutMs} ms; log so far:\n${this.text()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
      void exited.then((exit) => {
        if (!this.#waiters.delete(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`the process exited (${exit.signal ?? `code ${exit.code}`}) before logging ${String(matcher)}; log:\n${this.text()}`));
      });
    });
  }
}

/** Processes and folders to clean up if a test forgot to, or failed before it could. */
const leftovers = new Set<{ child: ChildProcess; dir?: string }>();
process.once('exit', () => {
  for (const { child, dir } of leftovers) {
    killGroup(child, 'SIGKILL');
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
});

/** Signals the child's whole process group, so an app it started goes too. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Resolves once the process has exited and its output has been read ('close'). An app the
 * sidecar started shares its pipes: if the app outlives the sidecar, it is killed after
 * `graceMs` (and `onOrphan` told), so the wait stays bounded.
 */
function exitOf(child: ChildProcess, onOrphan: () => void, graceMs = 2000): Promise<Exit> {
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      const timer = setTimeout(() => {
        onOrphan();
        killGroup(child, 'SIGKILL');
      }, graceMs);
      void closed.then(() => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
  });
}

function spawnTessera(args: string[], env: Record<string, string | undefined>, cwd?: string): { child: ChildProcess; logs: LogLines; exited: Promise<Exit> } {
  // Its own process group (detached), so cleanup can signal the sidecar and its app together.
  const child = spawn(process.execPath, [TESSERA_CLI, ...args], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const logs = new LogLines();
  logs.attach(child.stdout!);
  logs.attach(child.stderr!);
  const exited = exitOf(child, () => logs.note('the app outlived the sidecar: killed'));
  return { child, logs, exited };
}

/** Waits for `exited`, or fails after `timeoutMs`. */
function within(exited: Promise<Exit>, timeoutMs: number, what: string): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not exit within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
}

export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs `tessera ARGS` to completion (killed after `timeoutMs`), for commands that exit by themselves. */
export async function runTessera(
  args: string[],
  { env = {}, timeoutMs = 10_000, cwd }: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  const { child, exited } = spawnTessera(args, env, cwd);
  const entry = { child };
  leftovers.add(entry);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (s: string) => (stdout += s));
  child.stderr!.on('data', (s: string) => (stderr += s));
  try {
    return { ...(await within(exited, timeoutMs, `tessera ${args.join(' ')}`)), stdout, stderr };
  } finally {
    killGroup(child, 'SIGKILL');
    leftovers.delete(entry);
  }
}

export interface SidecarOptions {
  appId?: string;
  /** Files in the resources folder at start: file name -> contents, or the path of a file to copy. */
  resources?: Record<string, string | Uint8Array | { copyOf: string }>;
  /** Makes what `resources` cannot (named pipes, symlinks) in the resources folder before the start. */
  prepare?: (dir: string) => Promise<void>;
  /** More `tessera run` flags. */
  args?: string[];
  /** Environment variables for the sidecar (DAPR_API_TOKEN, ...); undefined unsets one. */
  env?: Record<string, string | undefined>;
  /** The app command, after `--`. */
  command?: string[];
  startTimeoutMs?: number;
  /**
   * Wait until the first scan of the resources folder is applied (`/v1.0/healthz` answers
   * 204), as a test that calls its components at once needs; true by default. The API
   * listens before the components load.
   */
  waitForComponents?: boolean;
}

export class SidecarProcess {
  readonly child: ChildProcess;
  readonly resourcesDir: string;
  /** e.g. `http://127.0.0.1:41234` */
  url = '';
  port = 0;
  /** The gRPC API's port (a free one, unless the test's args name one). */
  grpcPort = 0;
  /** Resolves once the process has exited and its output has been read. */
  readonly exited: Promise<Exit>;
  readonly #logs: LogLines;
  readonly #entry: { child: ChildProcess; dir?: string };

  /** Use `startSidecar`. */
  constructor(resourcesDir: string, spawned: ReturnType<typeof spawnTessera>) {
    this.resourcesDir = resourcesDir;
    this.child = spawned.child;
    this.#logs = spawned.logs;
    this.exited = spawned.exited;
    this.#entry = { child: this.child, dir: resourcesDir };
    leftovers.add(this.#entry);
  }

  /** Every line the process wrote to stdout or stderr so far (the app's too). */
  get logs(): readonly LogEntry[] {
    return this.#logs.entries;
  }

  /** All output so far as text, for assertion messages. */
  logText(): string {
    return this.#logs.text();
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * The first log entry `matcher` accepts (a RegExp is tested against the decoded message),
   * logged already or within `timeoutMs`.
   */
  waitForLog(matcher: LogMatcher, timeoutMs = 5000): Promise<LogEntry> {
    return this.#logs.waitFor(matcher, timeoutMs, this.exited);
  }

  /** Waits for the process to exit by itself, failing after `timeoutMs`. */
  waitForExit(timeoutMs = 5000): Promise<Exit> {
    return within(this.exited, timeoutMs, 'the sidecar');
  }

  /** fetch() against the sidecar (`path` starts with `/v1.0/...`), failing after 10 s unless `init` has its own signal. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(this.url + path, { signal: AbortSignal.timeout(10_000), ...init });
  }

  /** Path of a file in the resources folder. */
  resource(name: string): string {
    return join(this.resourcesDir, name);
  }

  /** Writes a resources file atomically (write beside it, then rename), so the watcher never reads half of it. */
  async writeResource(name: string, content: string | Uint8Array): Promise<string> {
    const path = this.resource(name);
    const temp = this.resource(`.${name}.${process.pid}.tmp`);
    await writeFile(temp, content);
    await rename(temp, path);
    return path;
  }

  async removeResource(name: string): Promise<void> {
    await rm(this.resource(name), { force: true });
  }

  /**
   * Sends `signal` (SIGTERM: a clean stop) and waits for the exit; kills the process group
   * if it has not exited after `timeoutMs`. Always removes the resources folder.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<Exit> {
    try {
      if (this.alive) this.child.kill(signal);
      try {
        return await within(this.exited, timeoutMs, 'the sidecar');
      } catch (err) {
        killGroup(this.child, 'SIGKILL');
        await within(this.exited, 2000, 'the killed sidecar').catch(() => undefined);
        throw err;
      }
    } finally {
      // An app the sidecar started must not outlive it.
      killGroup(this.child, 'SIGKILL');
      rmSync(this.resourcesDir, { recursive: true, force: true });
      leftovers.delete(this.#entry);
    }
  }
}

/**
 * Starts `tessera run` on port 0 with a fresh resources folder and resolves once it logs the
 * address it listens on and (unless `waitForComponents` is false) its components are loaded.
 * Call `stop()` on the result in an `after` hook.
 */
export async function startSidecar(options: SidecarOptions = {}): Promise<SidecarProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-resources-'));
  let sidecar: SidecarProcess | undefined;
  try {
    for (const [name, content] of Object.entries(options.resources ?? {})) {
      if (typeof content === 'object' && 'copyOf' in content) await copyFile(content.copyOf, join(dir, name));
      else await writeFile(join(dir, name), content);
    }
    await options.prepare?.(dir);
    const args = [
      'run',
      '--app-id',
      options.appId ?? 'myapp',
      '--dapr-http-port',
      '0',
      // Not daprd's 50001: sidecars of tests running side by side would fight over it.
      '--dapr-grpc-port',
      '0',
      '--resources-path',
      dir,
      // Many sidecars run at once: each serves its metrics on a free port (`args` may name one).
      '--metrics-port',
      '0',
      ...(options.args ?? []),
      ...(options.command === undefined ? [] : ['--', ...options.command]),
    ];
    sidecar = new SidecarProcess(dir, spawnTessera(args, options.env ?? {}));
    const entry = await sidecar.waitForLog(LISTENING, options.startTimeoutMs ?? 10_000);
    const [, url, port] = LISTENING.exec(entry.message)!;
    sidecar.url = url!;
    sidecar.port = Number(port);
    // The gRPC API listens once the first scan is applied: waited for only with the components.
    const started = sidecar;
    const grpcListening = (): Promise<void> =>
      started.waitForLog(GRPC_LISTENING, options.startTimeoutMs ?? 10_000).then((grpc) => {
        started.grpcPort = Number(GRPC_LISTENING.exec(grpc.message)![1]);
      });
    if (!(options.waitForComponents ?? true)) void grpcListening().catch(() => {});
    else await grpcListening();
    if (options.waitForComponents ?? true) {
      const ready = sidecar;
      await pollUntil(
        () => `the sidecar's components to load (/v1.0/healthz 204); log so far:\n${ready.logText()}`,
        // A sidecar that exited (its app could not start, say) is for the test to look at.
        async () => (!ready.alive || (await ready.fetch('/v1.0/healthz')).status === 204 ? true : undefined),
        { timeoutMs: options.startTimeoutMs ?? 10_000, intervalMs: 10 },
      );
    }
    return sidecar;
  } catch (err) {
    if (sidecar) await sidecar.stop();
    else rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
