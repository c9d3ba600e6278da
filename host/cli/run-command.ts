// `tessera run`: starts the sidecar, then the app command if one was given, and shuts both
// down together — when the app exits, on SIGINT/SIGTERM, or on POST /v1.0/shutdown.
import type { ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { loadWorkers } from '../components/load-worker.ts';
import { loadConfiguration, type DaprConfiguration } from '../configuration/dapr-configuration.ts';
import { observabilityConfig, type ObservabilityConfig } from '../observability/configuration.ts';
import { listenErrorCode } from '../errors.ts';
import { createLogger } from '../observability/logger.ts';
import { startTracing, stopTracing } from '../observability/tracing.ts';
import type { NameResolver } from '../building-blocks/invoke/name-resolution/name-resolver.ts';
import { MtlsConfigError, loadMtls } from '../security/mtls-credentials.ts';
import { trimHeapWhenIdle } from '../idle-heap.ts';
import { startApp, stopApp } from './app-process.ts';
import { defaultOrFree } from './default-port.ts';
import { RUN_USAGE, UsageError, parseRunArgs, type RunOptions } from './run-options.ts';

/** The longest a shutdown waits for components and the app before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The last-resort guard: whatever still slips out of a component call or a host capability
 * as an exception nobody handled is logged, never the end of the process (every other
 * component keeps serving). Each one is a bug in the host to report.
 */
function guardProcess(logger: ReturnType<typeof createLogger>): void {
  const say = (what: string, err: unknown): void =>
    logger.error(`${what}, kept running (please report it): ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  process.on('unhandledRejection', (reason) => say('a promise was rejected with nobody listening', reason));
  process.on('uncaughtException', (err) => say('an exception reached the top of the event loop', err));
}

/** A resources folder that is not there is a typo to report, not a sidecar serving no components. */
async function checkResourcesPaths(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const found = await stat(path).catch((err: NodeJS.ErrnoException) => err);
    if (found instanceof Error) {
      const why = found.code === 'ENOENT' ? 'does not exist' : `cannot be read (${found.code ?? found.message})`;
      throw new UsageError(`--resources-path ${path}: the folder ${why}; create it, or name another`);
    }
    if (!found.isDirectory()) throw new UsageError(`--resources-path ${path}: not a folder; name the folder holding the component files`);
  }
}

/** Why an API could not listen, with the flag that changes it; other errors as they are. */
function listenFailure(err: unknown, options: RunOptions, api: 'http' | 'grpc' = 'http'): unknown {
  const port = api === 'http' ? options.httpPort : options.grpcPort;
  const flag = `--dapr-${api}-port`;
  const where = `${options.listenAddress}:${port}`;
  const message = err instanceof Error ? err.message : String(err);
  switch (listenErrorCode(err)) {
    case 'EADDRINUSE':
      return new Error(`port ${port} is already in use on ${options.listenAddress} (another sidecar?); choose another with ${flag}`);
    case 'EACCES':
      return new Error(`not allowed to listen on ${where}; choose a port above 1023 with ${flag}`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new Error(`cannot listen on ${where}: no such address on this machine; check --dapr-listen-addresses`);
    default:
      return api === 'grpc' ? new Error(`cannot listen on ${where}: ${message}`) : err;
  }
}

/** The name resolver the Configuration names; one it cannot use is a usage error, naming the file and field. */
async function nameResolver(config: DaprConfiguration | undefined): Promise<NameResolver | undefined> {
  if (config?.spec.nameResolution === undefined) return undefined;
  const { chooseResolver } = await import('../building-blocks/invoke/name-resolution/choose-resolver.ts');
  try {
    return chooseResolver(config.spec.nameResolution, config.source);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export async function runCommand(argv: string[]): Promise<void> {
  const options = parseRunArgs(argv);
  if (options === 'help') {
    console.log(RUN_USAGE);
    return;
  }
  await checkResourcesPaths(options.resourcesPaths);
  // Read and validated once; each part goes to its user (tracing, metrics, name resolution, the HTTP pipeline).
  const config = await loadConfiguration(options.configFile, options.resourcesPaths).catch((err: Error) => {
    throw new UsageError(err.message);
  });
  const resolver = await nameResolver(config);
  const namespace = process.env.NAMESPACE || undefined;
  // Read and checked once, before anything listens: a bad certificate is a usage error naming its file.
  const mtls = await loadMtls(options.mtls, process.env, options.appId, namespace ?? 'default').catch((err: unknown) => {
    throw err instanceof MtlsConfigError ? new UsageError(err.message) : err;
  });
  // The load worker starts first: it imports its half of the host on another core while
  // this thread imports the sidecar, and is up when the first resources file is read. Until
  // the sidecar is ready it runs at this thread's priority (there is nothing to serve yet).
  loadWorkers.warm({ foreground: true });
  const { Sidecar } = await import('../sidecar.ts');
  const logger = createLogger({ level: options.logLevel, json: options.logAsJson, appId: options.appId });
  guardProcess(logger);
  let observability: ObservabilityConfig;
  try {
    observability = observabilityConfig(config, process.env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (config?.spec.appHttpPipeline !== undefined) logger.warn(`${config.source}: spec.appHttpPipeline is not supported yet and is ignored (spec.httpPipeline is)`);
  // Tracing starts before the API listens, so the first call is traced; off, nothing is loaded.
  const tracing = await startTracing(observability.tracing, options.appId);
  if (tracing !== undefined) {
    const { samplingRate, endpoint, protocol, source } = observability.tracing!;
    logger.info(`tracing on: sampling rate ${samplingRate}, OTLP over ${protocol} to ${endpoint ?? 'the OTEL_EXPORTER_OTLP_* endpoint'} (from ${source})`);
  }
  const metricsPort = observability.metricsEnabled === false ? undefined : options.metricsPort;
  const apiToken = process.env.DAPR_API_TOKEN || undefined;
  let app: ChildProcess | undefined;
  let stopping = false;

  const stop = async (exitCode: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down');
    // A component or an app that does not stop in time does not keep the process alive.
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${SHUTDOWN_GRACE_MS / 1000} s; exiting anyway`);
      process.exit(exitCode);
    }, SHUTDOWN_GRACE_MS).unref();
    if (app) await stopApp(app, logger);
    await sidecar.stop().catch((err: Error) => logger.error(`shutdown failed: ${err.message}`));
    // The last spans are sent before the process goes.
    await stopTracing().catch((err: Error) => logger.warn(`sending the last spans failed: ${err.message}`));
    process.exit(exitCode);
  };

  // Side by side with another sidecar, the default ports give way to free ones (the app is told its sidecar's ports either way).
  const taken = (port: number, flag: string) => () => logger.info(`port ${port} is in use (another sidecar?): listening on a free port instead; choose one with ${flag}`);
  const httpPort = options.defaultPorts.http ? await defaultOrFree(options.listenAddress, options.httpPort, taken(options.httpPort, '--dapr-http-port')) : options.httpPort;
  const grpcPortWanted = options.defaultPorts.grpc ? await defaultOrFree(options.listenAddress, options.grpcPort, taken(options.grpcPort, '--dapr-grpc-port')) : options.grpcPort;
  const sidecar = await Sidecar.start({
    appId: options.appId,
    appPort: options.appPort,
    appMaxConcurrency: options.appMaxConcurrency,
    appProtocol: options.appProtocol,
    appChannelAddress: options.appChannelAddress,
    appHealth: options.appHealth,
    httpPort,
    grpcPort: grpcPortWanted,
    grpcPortIsDefault: options.defaultPorts.grpc,
    httpPortIsDefault: options.defaultPorts.http,
    internalGrpcPort: options.internalGrpcPort,
    namespace,
    resolver,
    httpPipeline: config?.spec.httpPipeline?.handlers === undefined ? undefined : { handlers: config.spec.httpPipeline.handlers, source: config.source },
    mtls,
    listenAddress: options.listenAddress,
    resourcesPaths: options.resourcesPaths,
    maxComponents: options.maxComponents,
    maxBodyBytes: options.maxBodyBytes,
    apiToken,
    logger,
    metricsPort,
    onShutdownRequest: () => void stop(0),
  }).catch((err: unknown) => {
    throw listenFailure(err, options);
  });
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  // daprd does not run without its gRPC API: a port in use stops the sidecar.
  const grpcPort = await sidecar.grpcPort.catch((err: unknown) => {
    logger.error(`the gRPC API could not start: ${(listenFailure(err, options, 'grpc') as Error).message}`);
    void stop(1);
    return undefined;
  });

  // The app starts once the components are loaded, as it may call them at once (the API
  // already listens: health and metadata answer meanwhile).
  await sidecar.loaded;
  // A quiet sidecar gives back the heap it grew while loading, or under an earlier load.
  trimHeapWhenIdle(logger);
  if (options.command.length > 0 && !stopping) {
    app = startApp(options.command, { appId: options.appId, appPort: options.appPort, httpPort: sidecar.port, grpcPort, apiToken });
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
