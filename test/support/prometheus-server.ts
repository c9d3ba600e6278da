// A real Prometheus server (Debian's `prometheus` package) for tests: it scrapes the targets
// a test names every second, keeps its data in a temp folder, listens on a free loopback
// port, and answers the HTTP API (/api/v1/targets, /api/v1/query). `stop()` kills it and
// removes the folder; every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from './sidecar-process.ts';
import { freePort } from './test-app.ts';

export interface PrometheusTarget {
  health: string;
  lastError: string;
  scrapeUrl: string;
  labels: Record<string, string>;
}

export class PrometheusServer {
  readonly url: string;
  readonly #process: ChildProcess;
  readonly #dir: string;
  #log = '';

  private constructor(url: string, process: ChildProcess, dir: string) {
    this.url = url;
    this.#process = process;
    this.#dir = dir;
    process.stdout?.on('data', (s: Buffer) => (this.#log = (this.#log + s.toString()).slice(-20_000)));
    process.stderr?.on('data', (s: Buffer) => (this.#log = (this.#log + s.toString()).slice(-20_000)));
  }

  /** Starts Prometheus scraping `targets` (`host:port`, path /metrics) as job `job`, and waits until its API answers. */
  static async start(job: string, targets: string[]): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-prometheus-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: ${JSON.stringify(job)}\n    static_configs:\n      - targets: ${JSON.stringify(targets)}\n`,
    );
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir);
    try {
      await pollUntil(
        () => `Prometheus to answer on ${server.url}; its log:\n${server.#log}`,
        async () => ((await fetch(`${server.url}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
        { timeoutMs: 20_000, intervalMs: 50 },
      );
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  async #api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  /** The active targets, as GET /api/v1/targets reports them. */
  async targets(): Promise<PrometheusTarget[]> {
    return (await this.#api<{ activeTargets: PrometheusTarget[] }>('/api/v1/targets')).activeTargets;
  }

  /** An instant query's series: their labels and values. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    return (await this.#api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result;
  }

  get log(): string {
    return this.#log;
  }

  async stop(): Promise<void> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.#process.once('exit', () => resolve()));
      this.#process.kill('SIGKILL');
      await exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
