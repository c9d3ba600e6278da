// Starts the app command beside the sidecar, with the environment Dapr gives an app, and
// reports when it exits so the sidecar can stop with it.
import { spawn, type ChildProcess } from 'node:child_process';

export interface AppEnvironment {
  appId: string;
  appPort: number | undefined;
  httpPort: number;
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
      ...(env.appPort === undefined ? {} : { APP_PORT: String(env.appPort) }),
      ...(env.apiToken === undefined ? {} : { DAPR_API_TOKEN: env.apiToken }),
    },
  });
}
