// The load worker's thread (load-worker.ts starts it): lowers its own priority (at once, or
// when told), says when it is ready, warms up its parsers (load-jobs.ts warmUp), then runs one job at a time (load-jobs.ts), after
// loading the extension modules the job names (kinds and capabilities beyond the built-in
// ones), and posts back its result, or its error flattened so it survives the clone.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { isTesseraError } from '../errors.ts';
import type { LoadReply, LoadRequest, LoadThreadData, LowerPriority } from './load-jobs.ts';

/** Nice value of the load worker's thread (0 normal, 19 lowest). */
const LOAD_NICENESS = 10;

const port = parentPort!;

// Loading may take seconds of CPU, starting this thread too: serving must not wait for a
// core. On Linux this lowers the priority of this thread only (setpriority applies to the
// calling thread there), so it comes before the imports, unless the sidecar is starting
// (nothing to serve yet): then when the first scan is applied.
function lowerPriority(): void {
  try {
    setPriority(LOAD_NICENESS);
  } catch {
    // Not allowed here: loading runs at the usual priority.
  }
}
if ((workerData as LoadThreadData).background) lowerPriority();
const { LOAD_JOBS, warmUp } = await import('./load-jobs.ts');
const { loadExtensions } = await import('../sandbox/extensions.ts');

port.on('message', async (message: LoadRequest | LowerPriority) => {
  if ('lowerPriority' in message) return lowerPriority();
  const { id, job, args, extensions } = message;
  let reply: LoadReply;
  try {
    await loadExtensions(extensions);
    reply = { id, value: await (LOAD_JOBS[job] as (...a: unknown[]) => unknown)(...args) };
  } catch (err) {
    reply = { id, error: { code: isTesseraError(err) ? err.code : 'ERR_COMPONENT_LOAD', message: isTesseraError(err) ? err.message : String((err as Error)?.message ?? err) } };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies LoadReply);
// Before the first job: a job posted meanwhile waits for it, as it would have paid for it anyway.
warmUp();
