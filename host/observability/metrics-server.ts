// The Prometheus endpoint, daprd's `--metrics-port` (9090): GET /metrics on its own small
// node:http server, apart from the API so a scrape never queues behind API traffic and the
// API never shows the scraper's calls. A port in use is reported, not fatal: the sidecar
// serves its API without metrics rather than not at all.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.ts';
import type { SidecarMetrics } from './metrics.ts';

// node:http as CommonJS, as app-channel.ts explains: an ESM import would load undici at every start.
const { createServer } = process.getBuiltinModule('node:http');

export interface MetricsServer {
  /** The port it listens on; undefined when it could not listen. */
  readonly port: number | undefined;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: SidecarMetrics, port: number, host: string, logger: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: Error) => {
        logger.error(`serving metrics failed: ${err.message}`);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be gathered\n');
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      logger.error(`metrics are not served: cannot listen on ${host}:${port} (${err.code ?? err.message}); choose another port with --metrics-port, or turn metrics off with --enable-metrics=false`);
      resolve(false);
    });
    server.listen(port, host, () => resolve(true));
  });
  const bound = listening ? (server.address() as AddressInfo).port : undefined;
  if (bound !== undefined) logger.info(`metrics served on http://${host}:${bound}/metrics`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        if (!listening) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
