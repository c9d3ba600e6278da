// The load worker's thread (load-worker.ts starts it): says when it is ready (with its thread
// id, by which the pool lowers its priority during a long job: load-priority.ts), warms up its
// parsers (load-jobs.ts warmUp), then runs one job at a time (load-jobs.ts), after loading the
// extension modules the job names (kinds and capabilities beyond the built-in ones), and
// posts back its result, or its error flattened so it survives the clone.
import { parentPort, workerData } from 'node:worker_threads';
import { isTesseraError } from '../errors.ts';
import type { LoadReply, LoadRequest, LoadThreadData, LowerPriority } from './load-jobs.ts';
import { lowerThread, ownThreadId } from './load-priority.ts';

const port = parentPort!;
const tid = ownThreadId();

// Without a thread id the pool cannot lower this thread during a long job: in the background
// (a ready sidecar's), it runs below the event loop's priority from the start, before its
// imports; a starting sidecar's from the `LowerPriority` message on.
if (tid === undefined && (workerData as LoadThreadData).background) lowerThread();
const { LOAD_JOBS, warmUp } = await import('./load-jobs.ts');
const { loadExtensions } = await import('../sandbox/extensions.ts');

port.on('message', async (message: LoadRequest | LowerPriority) => {
  if ('lowerPriority' in message) return lowerThread();
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
port.postMessage({ ready: true, tid } satisfies LoadReply);
// Before the first job: a job posted meanwhile waits for it, as it would have paid for it anyway.
warmUp();
