// A sidecar whose log reader goes away (its stdout pipe closed: EPIPE on the next line) keeps
// serving and idles, instead of turning each failed write into an error whose log line fails
// again (it spun at a full core).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startSidecar, STATE_MEMORY_WASM, type SidecarProcess } from '../support/sidecar-process.ts';

let sidecar: SidecarProcess | undefined;
after(() => sidecar?.stop());

/** User plus system CPU time of a process so far, in clock ticks (/proc/<pid>/stat). */
async function cpuTicks(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

test('with its stdout closed, the sidecar keeps serving and does not spin', async () => {
  sidecar = await startSidecar({ resources: { 'statestore.wasm': { copyOf: STATE_MEMORY_WASM } } });
  sidecar.child.stdout!.destroy();
  // Calls that log: each failed call writes an error line to the closed pipe.
  for (let i = 0; i < 5; i++) assert.equal((await sidecar.fetch('/v1.0/state/nosuchstore/k')).status, 400);
  const save = await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"key":"a","value":1}]' });
  assert.equal(save.status, 204);
  // Idle for a second: a sidecar spinning on its own errors burns about a second of CPU (100 ticks).
  const before = await cpuTicks(sidecar.child.pid!);
  await delay(1000);
  const used = (await cpuTicks(sidecar.child.pid!)) - before;
  assert.ok(used < 50, `the idle sidecar used ${used} ticks of CPU in one second`);
  assert.equal(await (await sidecar.fetch('/v1.0/state/statestore/a')).text(), '1');
});
