// `tessera run` flags, named as daprd names them, parsed into sidecar options with errors
// that name the flag and the bad value.
import { parseArgs } from 'node:util';
import { isLogLevel, type LogLevel } from '../observability/logger.ts';
import { parseSize } from '../units.ts';

export interface RunOptions {
  appId: string;
  appPort: number | undefined;
  httpPort: number;
  listenAddress: string;
  resourcesPaths: string[];
  logLevel: LogLevel;
  logAsJson: boolean;
  maxBodyBytes: number;
  /** The app command after `--`, if any. */
  command: string[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const RUN_USAGE = `Usage: tessera run --app-id ID [flags] [-- COMMAND [ARGS...]]

Runs the Tessera sidecar (the Dapr v1.0 HTTP API on WebAssembly components) and, when a
command follows "--", starts the app with DAPR_HTTP_PORT and APP_ID in its environment.
The sidecar stops when the app exits, and on SIGINT or SIGTERM.

Flags:
  --app-id ID                 the app's id; state keys are prefixed with it (required)
  --app-port N                the port the app listens on (passed to it as APP_PORT)
  --dapr-http-port N          port of the Dapr HTTP API (default 3500)
  --dapr-listen-addresses A   address the API listens on (default 127.0.0.1)
  --resources-path DIR        a folder of Component YAML and .wasm files; repeatable.
                              Changes to it are applied while the sidecar runs.
                              (--components-path is accepted as an alias)
  --log-level L               debug, info, warn or error (default info)
  --log-as-json               write logs as JSON lines
  --max-body-size SIZE        largest request body, e.g. 4Mi, 512Ki, 1048576 (default 4Mi)
  -h, --help                  show this help

Environment:
  DAPR_API_TOKEN              when set, every API call but /v1.0/healthz must send it in
                              the dapr-api-token header`;

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

export function parseRunArgs(argv: string[]): RunOptions | 'help' {
  const split = argv.indexOf('--');
  const flags = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: flags,
      strict: true,
      allowPositionals: false,
      options: {
        'app-id': { type: 'string' },
        'app-port': { type: 'string' },
        'dapr-http-port': { type: 'string' },
        'dapr-listen-addresses': { type: 'string' },
        'resources-path': { type: 'string', multiple: true },
        'components-path': { type: 'string', multiple: true },
        'log-level': { type: 'string' },
        'log-as-json': { type: 'boolean' },
        'max-body-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const appId = v['app-id'];
  if (!appId) throw new UsageError('--app-id is required');
  if (appId.includes('||')) throw new UsageError(`--app-id "${appId}" must not contain "||"`);
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be debug, info, warn or error, got "${logLevel}"`);
  return {
    appId,
    appPort: port('--app-port', v['app-port']),
    httpPort: port('--dapr-http-port', v['dapr-http-port'], 3500)!,
    listenAddress: v['dapr-listen-addresses'] ?? '127.0.0.1',
    resourcesPaths: [...(v['resources-path'] ?? []), ...(v['components-path'] ?? [])],
    logLevel,
    logAsJson: v['log-as-json'] ?? false,
    maxBodyBytes: v['max-body-size'] === undefined ? 4 * 1024 ** 2 : size('--max-body-size', v['max-body-size']),
    command,
  };
}
