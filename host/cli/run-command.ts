// `tessera run`: starts the sidecar, then the app command if one was given, and shuts both
// down together — when the app exits, on SIGINT/SIGTERM, or on POST /v1.0/shutdown.
import type { ChildProcess } from 'node:child_process';
import { createLogger } from '../observability/logger.ts';
import { Sidecar } from '../sidecar.ts';
import { startApp, stopApp } from './app-process.ts';
import { RUN_USAGE, parseRunArgs } from './run-options.ts';

export async function runCommand(argv: string[]): Promise<void> {
  const options = parseRunArgs(argv);
  if (options === 'help') {
    console.log(RUN_USAGE);
    return;
  }
  const logger = createLogger({ level: options.logLevel, json: options.logAsJson });
  const apiToken = process.env.DAPR_API_TOKEN || undefined;
  let app: ChildProcess | undefined;
  let stopping = false;

  const stop = async (exitCode: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down');
    if (app) await stopApp(app, logger);
    await sidecar.stop().catch((err: Error) => logger.error(`shutdown failed: ${err.message}`));
    process.exit(exitCode);
  };

  const sidecar = await Sidecar.start({
    appId: options.appId,
    appPort: options.appPort,
    httpPort: options.httpPort,
    listenAddress: options.listenAddress,
    resourcesPaths: options.resourcesPaths,
    maxBodyBytes: options.maxBodyBytes,
    apiToken,
    logger,
    onShutdownRequest: () => void stop(0),
  });
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  if (options.command.length > 0) {
    app = startApp(options.command, { appId: options.appId, appPort: options.appPort, httpPort: sidecar.port, apiToken });
    app.on('error', (err) => {
      logger.error(`app command "${options.command[0]}" could not start: ${err.message}`);
      void stop(1);
    });
    app.on('exit', (code, signal) => {
      logger.info(`app exited (${signal ?? `code ${code}`})`);
      void stop(code ?? 1);
    });
  }
}
