// The default ports of `tessera run` (daprd's 3500 and 50001) when the user named none: taken
// by another sidecar on this host, they give way to free ports, as `dapr run` picks ports for
// each app, so two apps run side by side with nothing but their app ids. A port the user
// named is never swapped: a taken one stops the sidecar, naming the flag.
import { createServer } from 'node:net';

/** Whether `host:port` can be listened on right now. */
function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** `port`, or 0 (a free port) when it is taken; `onTaken` says so. */
export async function defaultOrFree(host: string, port: number, onTaken: () => void): Promise<number> {
  if (await isFree(host, port)) return port;
  onTaken();
  return 0;
}
