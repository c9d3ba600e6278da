// Starts the app command beside the sidecar, with the environment Dapr gives an app, and
// reports when it exits so the sidecar can stop with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Logger } from '../observability/logger.ts';

/** How long an app gets to exit after SIGTERM before it is killed, as daprd's graceful shutdown. */
export const APP_GRACE_MS = 5000;

export interface AppEnvironment {
  appId: string;
  appPort: number | undefined;
  httpPort: number;
  grpcPort: number | undefined;
  apiToken: string | undefined;
}

export function startApp(command: string[], env: AppEnvironment): ChildProcess {
  const [file, ...args] = command;
  return spawn(file!, args, {
    stdio: 'inherit',
    env: {
      ...process.env,
      APP_ID: env.appId,
      DAPR_HTTP_PORT: String(env.httpPort),
      ...(env.grpcPort === undefined ? {} : { DAPR_GRPC_PORT: String(env.grpcPort) }),
      ...(env.appPort === undefined ? {} : { APP_PORT: String(env.appPort) }),
      ...(env.apiToken === undefined ? {} : { DAPR_API_TOKEN: env.apiToken }),
    },
  });
}

/** SIGTERM, then SIGKILL if the app is still running after the grace period. */
export async function stopApp(app: ChildProcess, logger: Logger, graceMs = APP_GRACE_MS): Promise<void> {
  if (app.exitCode !== null || app.signalCode !== null) return;
  const exited = once(app, 'exit');
  app.kill('SIGTERM');
  const timer = setTimeout(() => {
    logger.warn(`app did not exit within ${graceMs} ms of SIGTERM; killing it`);
    app.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
