// `tessera run` flags, named as daprd names them, parsed into sidecar options with errors
// that name the flag and the bad value.
import { parseArgs } from 'node:util';
import type { AppProtocol } from '../app-channel/app-callbacks.ts';
import { APP_HEALTH_DEFAULTS, type AppHealthSettings } from '../app-channel/app-health.ts';
import { DEFAULT_MAX_COMPONENTS } from '../components/component-count.ts';
import { isLogLevel, type LogLevel } from '../observability/logger.ts';
import type { MtlsFlags } from '../security/mtls-credentials.ts';
import { parseSize } from '../units.ts';

export interface RunOptions {
  appId: string;
  appPort: number | undefined;
  /** `--app-max-concurrency`: most calls at the app at once; undefined for no limit. */
  appMaxConcurrency: number | undefined;
  /** `--app-protocol`: how the sidecar calls the app. */
  appProtocol: AppProtocol;
  /** `--app-channel-address`: where the app listens. */
  appChannelAddress: string;
  /** `--enable-app-health-check` and its settings; undefined when off. */
  appHealth: AppHealthSettings | undefined;
  httpPort: number;
  /** `--dapr-grpc-port`: the gRPC API's port. */
  grpcPort: number;
  /** Which ports are daprd's defaults rather than named by a flag (those give way to a free port when taken). */
  defaultPorts: { http: boolean; grpc: boolean };
  /** `--dapr-internal-grpc-port`: where other sidecars call this one (0: a free port). */
  internalGrpcPort: number;
  listenAddress: string;
  resourcesPaths: string[];
  /** `--max-components`: most components the sidecar runs at once. */
  maxComponents: number;
  logLevel: LogLevel;
  logAsJson: boolean;
  maxBodyBytes: number;
  /** Port of GET /metrics; undefined with `--enable-metrics=false`. */
  metricsPort: number | undefined;
  /** `--config`: a Dapr Configuration file (tracing, metrics, name resolution). */
  configFile: string | undefined;
  /** `--enable-mtls`, `--trust-anchors-file`, `--cert-chain`, `--cert-key`: read (with the environment) at start. */
  mtls: MtlsFlags;
  /** The app command after `--`, if any. */
  command: string[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const RUN_USAGE = `Usage: tessera run --app-id ID [flags] [-- COMMAND [ARGS...]]

Runs the Tessera sidecar (the Dapr v1.0 HTTP API on WebAssembly components) and, when a
command follows "--", starts the app once the components are loaded.

Flags:
  --app-id ID                 the app's id; state keys are stored as ID||KEY (required)
  --app-port N                the port the app listens on; without it the sidecar never calls
                              the app (no subscriptions, no deliveries)
  --app-max-concurrency N     most calls at the app at once, across every subscription,
                              input binding and /dapr/subscribe; the others wait their turn
                              (default -1: no limit). 1 makes the app see one call at a time
  --app-protocol P            how the sidecar calls the app: http (default) or grpc (the
                              app serves Dapr's AppCallback gRPC service on --app-port)
  --app-channel-address A     the address the app listens on (default 127.0.0.1)
  --enable-app-health-check   probe the app's health; deliver nothing while it is unhealthy
  --app-health-check-path P   the path probed with GET, HTTP only (default /healthz)
  --app-health-probe-interval N  seconds between probes (default 5)
  --app-health-probe-timeout N   milliseconds a probe may take (default 500)
  --app-health-threshold N    failed probes in a row that make the app unhealthy (default 3)
  --dapr-http-port N          port of the Dapr HTTP API (default 3500, or a free port when
                              another sidecar has it; 0 picks a free port)
  --dapr-grpc-port N          port of the Dapr gRPC API (default 50001, or a free port when
                              another sidecar has it; 0 picks a free port)
  --dapr-internal-grpc-port N port other sidecars call this one on for service invocation
                              (default 0: a free port, found through the name resolver)
  --dapr-listen-addresses A   address the APIs listen on (default 127.0.0.1)
  --resources-path DIR        a folder of Component YAML and .wasm files, which must exist;
                              repeatable. Changes to it are applied while the sidecar runs.
                              (--components-path is accepted as an alias)
  --max-components N          most components run at once (default 256); past it, in the
                              folders' order after those already running, they are refused
                              with one error naming the first
  --log-level L               debug, info, warn or error (default info)
  --log-as-json               write logs as JSON lines
  --max-body-size SIZE        largest request body, e.g. 4Mi, 512Ki, 1048576 (default 4Mi)
  --metrics-port N            port of the Prometheus endpoint GET /metrics (default 9090)
  --enable-metrics=false      serve no metrics (default true)
  --config FILE               a Dapr Configuration YAML: spec.tracing, spec.metrics,
                              spec.httpPipeline (middleware.http.ratelimit), and
                              spec.nameResolution (how app ids are found: "sqlite", this
                              host's sidecars, the default; "mdns", multicast DNS on the
                              local network; "kubernetes", the DNS names of
                              Kubernetes services). Without it, the first kind: Configuration
                              in the resources folders, or the OTEL_* environment, configures
                              tracing
  --trust-anchors-file FILE   PEM of the CAs other sidecars' certificates must chain to
  --cert-chain FILE           PEM of this sidecar's certificate (then any intermediates),
                              with the SPIFFE id spiffe://<trust-domain>/ns/<namespace>/<app-id>
  --cert-key FILE             PEM of its private key. All three (or DAPR_TRUST_ANCHORS,
                              DAPR_CERT_CHAIN, DAPR_CERT_KEY) turn on mTLS between sidecars
  --enable-mtls[=false]       require the three above (=false: insecure, whatever is set)
  -h, --help                  show this help

The app's environment (the sidecar's own, plus):
  DAPR_HTTP_PORT              the port of the sidecar's HTTP API
  DAPR_GRPC_PORT              the port of the sidecar's gRPC API
  APP_ID                      the --app-id
  APP_PORT                    the --app-port, when given

The sidecar's environment:
  DAPR_API_TOKEN              when set, every call to the APIs must carry it in the
                              dapr-api-token header (gRPC: metadata), except GET
                              /v1.0/healthz and GET /v1.0/healthz/outbound (the app
                              inherits it)
  APP_API_TOKEN               when set, sent as the dapr-api-token header on every call the
                              sidecar makes to the app
  NAMESPACE                   the app's namespace for service invocation (default "default")
  DAPR_TRUST_ANCHORS, DAPR_CERT_CHAIN, DAPR_CERT_KEY
                              the PEM contents of --trust-anchors-file, --cert-chain and
                              --cert-key, as Dapr's injector sets them (a flag wins)
  TESSERA_NAME_REGISTRY       the folder this host's sidecars register in (default: a
                              per-user folder under the temp folder)

Shutdown: the sidecar stops when the app exits, on SIGINT or SIGTERM, and on
POST /v1.0/shutdown. It sends the app SIGTERM (SIGKILL 5 s later if it is still running)
and exits after at most 10 s, whatever is still running.

Exit codes:
  0                           stopped by SIGINT, SIGTERM or POST /v1.0/shutdown, or the app
                              exited with 0
  N                           the app exited with code N
  1                           the app was killed by a signal or could not start, or the
                              sidecar could not start (such as its port already in use)
  2                           a usage error: a bad flag or value, a --resources-path folder
                              that does not exist, an app command without "--" before it`;

function port(flag: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number from 0 to 65535, got "${value}"`);
  return n;
}

function size(flag: string, value: string): number {
  try {
    return parseSize(flag, value);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** daprd's `--app-max-concurrency`: -1 (no limit) or a positive integer. */
function maxConcurrency(value: string | undefined): number | undefined {
  if (value === undefined || value === '-1') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--app-max-concurrency must be a positive integer, or -1 for no limit, got "${value}"`);
  return n;
}

/** A whole number of at least 1, for `flag`. */
function positive(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

const APP_PROTOCOLS: readonly AppProtocol[] = ['http', 'grpc'];

/** daprd's `--app-protocol`; its https, grpcs and h2c are not supported yet, and say so. */
function appProtocol(value: string | undefined): AppProtocol {
  if (value === undefined) return 'http';
  if ((APP_PROTOCOLS as readonly string[]).includes(value)) return value as AppProtocol;
  throw new UsageError(`--app-protocol must be http or grpc, got "${value}"${['https', 'grpcs', 'h2c'].includes(value) ? ' (daprd\'s https, grpcs and h2c are not supported)' : ''}`);
}

/** daprd's app health flags: off unless `--enable-app-health-check`; a probe may not outlast its interval. */
function appHealth(v: Record<string, string | boolean | string[] | undefined>): AppHealthSettings | undefined {
  const str = (name: string): string | undefined => v[name] as string | undefined;
  const settings: AppHealthSettings = {
    path: str('app-health-check-path') ?? APP_HEALTH_DEFAULTS.path,
    intervalMs: positive('--app-health-probe-interval', str('app-health-probe-interval'), APP_HEALTH_DEFAULTS.intervalMs / 1000) * 1000,
    timeoutMs: positive('--app-health-probe-timeout', str('app-health-probe-timeout'), APP_HEALTH_DEFAULTS.timeoutMs),
    threshold: positive('--app-health-threshold', str('app-health-threshold'), APP_HEALTH_DEFAULTS.threshold),
  };
  if (settings.timeoutMs > settings.intervalMs) {
    throw new UsageError(`--app-health-probe-timeout (${settings.timeoutMs} ms) must not be longer than --app-health-probe-interval (${settings.intervalMs / 1000} s)`);
  }
  if (!settings.path.startsWith('/')) settings.path = `/${settings.path}`;
  return v['enable-app-health-check'] ? settings : undefined;
}

const FLAGS = {
  'app-id': { type: 'string' },
  'app-port': { type: 'string' },
  'app-max-concurrency': { type: 'string' },
  'app-protocol': { type: 'string' },
  'app-channel-address': { type: 'string' },
  'enable-app-health-check': { type: 'boolean' },
  'app-health-check-path': { type: 'string' },
  'app-health-probe-interval': { type: 'string' },
  'app-health-probe-timeout': { type: 'string' },
  'app-health-threshold': { type: 'string' },
  'dapr-http-port': { type: 'string' },
  'dapr-grpc-port': { type: 'string' },
  'dapr-internal-grpc-port': { type: 'string' },
  'dapr-listen-addresses': { type: 'string' },
  'resources-path': { type: 'string', multiple: true },
  'components-path': { type: 'string', multiple: true },
  'max-components': { type: 'string' },
  'log-level': { type: 'string' },
  'log-as-json': { type: 'boolean' },
  'max-body-size': { type: 'string' },
  'metrics-port': { type: 'string' },
  'enable-metrics': { type: 'string' },
  config: { type: 'string' },
  'enable-mtls': { type: 'string' },
  'trust-anchors-file': { type: 'string' },
  'cert-chain': { type: 'string' },
  'cert-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** daprd's boolean flag: `--enable-metrics`, `--enable-metrics=true` or `=false`. */
function enabled(flag: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${flag} must be true or false, as in ${flag}=false, got "${value}"`);
}

/** An argument as a shell would need it written. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * The usage error for an app command written without `--` before it (`tessera run --app-id a
 * node app.js`), showing the line meant; undefined when every argument is a flag or its value.
 */
function commandWithoutSeparator(flags: string[]): UsageError | undefined {
  const { tokens } = parseArgs({ args: flags, options: FLAGS, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((token) => token.kind === 'positional');
  if (first === undefined) return undefined;
  const line = [...flags.slice(0, first.index), '--', ...flags.slice(first.index)].map(shellWord).join(' ');
  return new UsageError(`unexpected argument "${first.value}": the app command goes after "--", as in: tessera run ${line}`);
}

export function parseRunArgs(argv: string[]): RunOptions | 'help' {
  const split = argv.indexOf('--');
  // A bare boolean flag daprd also takes as `--flag=false` is given its value.
  const flags = (split === -1 ? argv : argv.slice(0, split)).map((a) => (a === '--enable-metrics' || a === '--enable-mtls' ? `${a}=true` : a));
  const command = split === -1 ? [] : argv.slice(split + 1);
  let parsed;
  try {
    parsed = parseArgs({ args: flags, options: FLAGS, strict: true, allowPositionals: true });
  } catch (err) {
    throw commandWithoutSeparator(flags) ?? new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length > 0) throw commandWithoutSeparator(flags)!;
  const appId = v['app-id'];
  if (!appId) throw new UsageError('--app-id is required');
  if (appId.includes('||')) throw new UsageError(`--app-id "${appId}" must not contain "||"`);
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be debug, info, warn or error, got "${logLevel}"`);
  return {
    appId,
    appPort: port('--app-port', v['app-port']),
    appMaxConcurrency: maxConcurrency(v['app-max-concurrency']),
    appProtocol: appProtocol(v['app-protocol']),
    appChannelAddress: v['app-channel-address'] || '127.0.0.1',
    appHealth: appHealth(v),
    httpPort: port('--dapr-http-port', v['dapr-http-port'], 3500)!,
    grpcPort: port('--dapr-grpc-port', v['dapr-grpc-port'], 50001)!,
    defaultPorts: { http: v['dapr-http-port'] === undefined, grpc: v['dapr-grpc-port'] === undefined },
    internalGrpcPort: port('--dapr-internal-grpc-port', v['dapr-internal-grpc-port'], 0)!,
    listenAddress: v['dapr-listen-addresses'] ?? '127.0.0.1',
    resourcesPaths: [...(v['resources-path'] ?? []), ...(v['components-path'] ?? [])],
    maxComponents: positive('--max-components', v['max-components'], DEFAULT_MAX_COMPONENTS),
    logLevel,
    logAsJson: v['log-as-json'] ?? false,
    maxBodyBytes: v['max-body-size'] === undefined ? 4 * 1024 ** 2 : size('--max-body-size', v['max-body-size']),
    metricsPort: enabled('--enable-metrics', v['enable-metrics']) ? port('--metrics-port', v['metrics-port'], 9090) : undefined,
    configFile: v.config,
    mtls: {
      enabled: v['enable-mtls'] === undefined ? undefined : enabled('--enable-mtls', v['enable-mtls']),
      trustAnchorsFile: v['trust-anchors-file'],
      certChainFile: v['cert-chain'],
      certKeyFile: v['cert-key'],
    },
    command,
  };
}
