// The load worker's thread (load-worker.ts starts it): lowers its own priority, says when it
// is ready, then runs one job at a time (load-jobs.ts), after loading the extension modules
// the job names (kinds and capabilities beyond the built-in ones), and posts back its result,
// or its error flattened so it survives the clone.
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { isTesseraError } from '../errors.ts';
import type { LoadReply, LoadRequest } from './load-jobs.ts';

/** Nice value of the load worker's thread (0 normal, 19 lowest). */
const LOAD_NICENESS = 10;

const port = parentPort!;

// Loading may take seconds of CPU, starting this thread too (it imports most of the host):
// serving must not wait for a core. On Linux this lowers the priority of this thread only
// (setpriority applies to the calling thread there), so it comes before the imports.
try {
  setPriority(LOAD_NICENESS);
} catch {
  // Not allowed here: loading runs at the usual priority.
}
const { LOAD_JOBS } = await import('./load-jobs.ts');
const { loadExtensions } = await import('../sandbox/extensions.ts');

port.on('message', async ({ id, job, args, extensions }: LoadRequest) => {
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
