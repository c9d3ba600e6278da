// What compiling a guest's functions ahead saves the event loop (host/sandbox/compile-hardened.ts,
// compileEagerly): the first call of a module with one large function (3.4 MB of code),
// compiled as V8 does by default (lazily: the function is compiled at its first call, on the
// thread that calls it) against compiled by `compileHardened` on a worker thread, as the load
// worker does, and posted here. The call is synchronous, so its time is the event loop's stall.
// Each round builds new bytes (V8 shares the compiled code of identical bytes).
import { Worker } from 'node:worker_threads';
import { encodeU32 } from '../../host/sandbox/wasm-binary.ts';
import { largeFunctionBody } from '../hostile/corpus.ts';
import { median } from './bench-support.ts';

const REPEATS = 485_000;

/** A module exporting `f(i32) -> i32`, whose body adds `step` to its argument REPEATS times. */
function moduleWithLargeFunction(step: number): Uint8Array {
  const body = largeFunctionBody(REPEATS, step);
  const section = (id: number, payload: ArrayLike<number>): number[] => [id, ...encodeU32(payload.length), ...Array.from(payload)];
  const code = [...encodeU32(1), ...encodeU32(body.length)];
  const head = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]),
    ...section(3, [1, 0]),
    ...section(7, [1, 1, 0x66, 0x00, 0]),
    10,
    ...encodeU32(code.length + body.length),
    ...code,
  ];
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

/** The worker: compiles what it is sent as the load worker does, and posts the module back. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.harden).then(({ compileHardened }) => {
  parentPort.on('message', (bytes) => parentPort.postMessage(compileHardened(bytes)));
});`;

function firstCallMs(module: WebAssembly.Module): number {
  const { f } = new WebAssembly.Instance(module).exports as { f: (x: number) => number };
  const t0 = performance.now();
  f(1);
  return performance.now() - t0;
}

export async function compileAheadBench(rounds: number): Promise<string[]> {
  const worker = new Worker(WORKER, { eval: true, workerData: { harden: new URL('../../host/sandbox/compile-hardened.ts', import.meta.url).href } });
  const viaWorker = (bytes: Uint8Array): Promise<WebAssembly.Module> =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage(bytes);
    });
  const lazy: number[] = [];
  const ahead: number[] = [];
  let size = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const a = moduleWithLargeFunction(2 * round + 1);
      const b = moduleWithLargeFunction(2 * round + 2);
      size = a.length;
      lazy.push(firstCallMs(await WebAssembly.compile(a)));
      ahead.push(firstCallMs(await viaWorker(b)));
    }
  } finally {
    await worker.terminate();
  }
  return [
    `Compiled ahead: the first call of a function of ${(size / 1e6).toFixed(1)} MB of code, ${rounds} rounds, medians (the call's time is the event loop's stall):`,
    `    compiled lazily (V8's default, at the first call, on this thread): ${median(lazy).toFixed(2)} ms (rounds: ${lazy.map((x) => x.toFixed(1)).join(', ')})`,
    `    compiled ahead on a worker (compileHardened), posted here:       ${median(ahead).toFixed(2)} ms (rounds: ${ahead.map((x) => x.toFixed(2)).join(', ')})`,
  ];
}
