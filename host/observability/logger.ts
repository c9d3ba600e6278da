// Structured, levelled logs for the sidecar: one line per event, text by default or JSON
// with `--log-as-json`, each line tagged with the scope (a component name, the API, ...).
import { hostname } from 'node:os';
import { truncate } from '../errors.ts';
import { RUNTIME_VERSION } from '../version.ts';
import { activeTracing } from './tracing.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry `scope` (for example `component=statestore`). */
  child(scope: string): Logger;
  isEnabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level: LogLevel;
  json: boolean;
  /** Where lines go; stdout by default, like daprd. */
  write?: (line: string) => void;
  /** Dapr's `app_id` field of a JSON line. */
  appId?: string | undefined;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Most characters of a message a line keeps: writing a line is work on the event loop, and must be bounded. */
export const MAX_LOG_MESSAGE_CHARS = 8192;

/** daprd's `instance` field: the host (the pod, in Kubernetes). */
const INSTANCE = hostname();

/** Whether stdout failed (its reader went away: EPIPE); no line is written to it after. */
let stdoutFailed = false;
let stdoutWatched = false;

/**
 * A line to stdout, until stdout fails. Without the listener a closed pipe's EPIPE reaches
 * the process's last-resort guard, which logs it, which fails again: the sidecar spun at a
 * full core. A sidecar whose log reader is gone keeps serving, silently.
 */
function writeStdout(line: string): void {
  if (stdoutFailed) return;
  if (!stdoutWatched) {
    stdoutWatched = true;
    process.stdout.on('error', () => (stdoutFailed = true));
  }
  process.stdout.write(line + '\n');
}

export function createLogger(options: LoggerOptions, scope = 'tessera'): Logger {
  const min = LOG_LEVELS.indexOf(options.level);
  const write = options.write ?? writeStdout;
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    message = truncate(message, MAX_LOG_MESSAGE_CHARS);
    const time = new Date().toISOString();
    if (options.json) {
      // daprd's fields, then the trace id of the call being served, if any.
      const traceId = activeTracing?.traceId();
      write(JSON.stringify({ time, level, type: 'log', msg: message, scope, app_id: options.appId, instance: INSTANCE, ver: RUNTIME_VERSION, ...(traceId === undefined ? {} : { trace_id: traceId }), ...fields }));
    } else {
      const extra = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('') : '';
      write(`time="${time}" level=${level} scope=${scope} msg=${JSON.stringify(message)}${extra}`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (s) => createLogger(options, `${scope}.${s}`),
    isEnabled: (level) => LOG_LEVELS.indexOf(level) >= min,
  };
}

/** A logger that drops everything, for tests and benchmarks. */
export const silentLogger: Logger = createLogger({ level: 'error', json: false, write: () => {} });
