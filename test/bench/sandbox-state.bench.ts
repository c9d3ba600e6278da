// Benchmark (b): get and set on the wasm state.memory through the whole sandbox path
// (StateStore binding, live component, canonical ABI lift/lower, the module) against the
// same operations on a JS Map, in this process.
import { readFile } from 'node:fs/promises';
import type { GetRequest, SetRequest } from '../../abi/ts/state.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';

const MODULE = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);

async function nsPerOp(iterations: number, op: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < Math.min(iterations, 20000); i++) await op(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await op(i);
  return Number(process.hrtime.bigint() - start) / iterations;
}

export async function sandboxStateBench(iterations: number): Promise<string[]> {
  const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(MODULE)));
  const live = await LiveComponent.start(compiled, { name: 'bench', config: new Map(), logger: silentLogger });
  const store = adaptStateStore(live);
  const keys = Array.from({ length: 1000 }, (_, i) => `bench||key-${i}`);
  const value = new TextEncoder().encode('{"name":"tessera","n":42}');
  const setReq = (i: number): SetRequest => ({ key: keys[i % 1000]!, value, concurrency: 'last-write', consistency: 'eventual', metadata: [] });
  const getReq = (i: number): GetRequest => ({ key: keys[i % 1000]!, consistency: 'eventual', metadata: [] });
  const map = new Map<string, { value: Uint8Array; etag: string }>();
  let etag = 0;
  const mapSet = async (r: SetRequest): Promise<void> => void map.set(r.key, { value: r.value, etag: String(++etag) });
  const mapGet = async (r: GetRequest) => map.get(r.key);

  const rows: [string, number, number][] = [];
  for (let round = 0; round < 3; round++) {
    rows.push(['set', await nsPerOp(iterations, (i) => store.set(setReq(i))), await nsPerOp(iterations, (i) => mapSet(setReq(i)))]);
    rows.push(['get', await nsPerOp(iterations, (i) => store.get(getReq(i))), await nsPerOp(iterations, (i) => mapGet(getReq(i)))]);
  }
  await live.close();
  const best = (op: string, col: 1 | 2): number => Math.min(...rows.filter((r) => r[0] === op).map((r) => r[col]));
  return [
    `(b) in-process state.memory through the sandbox vs a JS Map, ${iterations} ops x 3 rounds, best round:`,
    '    op  | wasm ns/op | Map ns/op | ratio',
    ...['get', 'set'].map((op) => `    ${op} | ${best(op, 1).toFixed(0).padStart(10)} | ${best(op, 2).toFixed(0).padStart(9)} | ${(best(op, 1) / best(op, 2)).toFixed(1)}x`),
    `    get target: <= 3000 ns/op through the sandbox`,
  ];
}
