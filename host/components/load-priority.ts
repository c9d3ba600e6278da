// The load workers' CPU priority. A job sized by its input (metering and compiling a module,
// jco's transpile, parsing a large YAML) may take seconds of CPU: serving must not wait for a
// core while it runs, so a job that has used QUICK_JOB_CPU_MS of its thread's CPU finishes
// below the event loop's priority. Most jobs are done well before that (a hot swap's 100 KB
// module is read, hardened and compiled in about 5 ms of CPU; a fresh worker's first one,
// which imports the sandbox's code, in about 45) and run at the usual priority, so a swap
// under a load that keeps every core busy is not held back tens of milliseconds waiting for
// one. CPU time, not wall time: under that load a 5 ms job can take 30 ms to finish.
//
// On Linux a thread's priority is its own: the pool lowers the worker's thread by its id
// (from /proc/thread-self), from the main thread, while the worker is busy in a job (it
// cannot lower itself mid-compile). An unprivileged process cannot raise a priority back, so
// a lowered worker stays low until it stops (idle workers stop after a few seconds; the next
// starts at the usual priority). A worker's own start (its imports: about 100 ms once, the
// same every time, sized by no input) runs at the usual priority too. Where there is no
// thread id to give, a worker lowers itself before its first job, as all of them did before.
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value of a lowered load worker (0 normal, 19 lowest). */
const LOAD_NICENESS = 10;

/** A job that has used this much of its thread's CPU (wall time where that cannot be read) is a large one: its worker is lowered. */
export const QUICK_JOB_CPU_MS = 100;

/** The calling thread's id in the kernel (Linux), else undefined. */
export function ownThreadId(): number | undefined {
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CPU time thread `tid` of this process has used, in ms (the first field of its
 * schedstat, in ns; a read of a few bytes from procfs), else undefined.
 */
export function threadCpuMs(tid: number): number | undefined {
  try {
    const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ', 1)[0]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Lowers thread `tid` (0: the calling thread) below the event loop's priority, where that is allowed. */
export function lowerThread(tid = 0): void {
  try {
    setPriority(tid, LOAD_NICENESS);
  } catch {
    // Not allowed here: the job runs on at the usual priority.
  }
}
