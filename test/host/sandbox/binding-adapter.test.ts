// The binding kind's adapter over a scripted host: operations read once per generation and
// an unlisted operation refused before any call; the input reader on an instance of its own,
// following a swap, acknowledging each event on the instance that handed it out and closing
// an old instance only once its events are acknowledged — so a queue-like binding that keeps
// handed-out events per instance loses none across a hot swap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Event } from '../../../abi/ts/wit/input.ts';
import { isTesseraError } from '../../../host/errors.ts';
import { adaptBinding } from '../../../host/sandbox/kinds/binding-adapter.ts';
import type { AdapterHost, DedicatedInstance } from '../../../host/sandbox/kinds/kind.ts';

const ok = <T>(val: T) => ({ tag: 'ok' as const, val });
const event = (id: string): Event => ({ id, data: new Uint8Array(0), metadata: [], contentType: undefined });

/** One instance of a queue-like binding: its own events, handed out and acknowledged. */
class Instance implements DedicatedInstance {
  readonly queue: Event[];
  readonly acks: string[] = [];
  closed = false;
  constructor(ids: string[]) {
    this.queue = ids.map(event);
  }
  async call(fn: string, args: unknown[]): Promise<unknown> {
    if (fn === 'input#read') return ok(this.queue.splice(0, args[0] as number));
    if (fn === 'input#ack') {
      this.acks.push(`${args[0]}:${args[1]}`);
      return ok(undefined);
    }
    throw new Error(`unexpected ${fn}`);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function scriptedHost() {
  const calls: string[] = [];
  const instances: Instance[] = [];
  const host = {
    name: 'q',
    features: new Set<string>(),
    generation: 1,
    blocking: true,
    exports: new Set(['input', 'output']),
    async call(fn: string): Promise<unknown> {
      calls.push(`${host.generation}:${fn}`);
      if (fn === 'output#operations') return host.generation === 1 ? ['create', 'get'] : ['create', 'get', 'delete'];
      if (fn === 'output#invoke') return ok({ data: new Uint8Array([1]), metadata: [], contentType: undefined });
      if (fn === 'binding#ping') return ok(undefined);
      throw new Error(`unexpected ${fn}`);
    },
    async dedicatedInstance(): Promise<DedicatedInstance> {
      const instance = new Instance(host.generation === 1 ? ['a', 'b'] : ['c']);
      instances.push(instance);
      return instance;
    },
  } satisfies AdapterHost & { generation: number };
  return { host, calls, instances };
}

test('operations are read once per generation; an operation the binding does not list is refused without a call', async () => {
  const { host, calls } = scriptedHost();
  const binding = adaptBinding(host);
  await binding.invoke({ operation: 'get', data: new Uint8Array(0), metadata: [] });
  await binding.invoke({ operation: 'create', data: new Uint8Array(0), metadata: [] });
  await assert.rejects(
    binding.invoke({ operation: 'delete', data: new Uint8Array(0), metadata: [] }),
    (err: unknown) => isTesseraError(err, 'ERR_INVOKE_OUTPUT_BINDING') && /binding "q" does not support operation "delete": it supports create, get/.test(err.message),
  );
  assert.deepEqual(calls, ['1:output#operations', '1:output#invoke', '1:output#invoke']);
  assert.deepEqual(binding.describe(), { direction: 'input, output', operations: ['create', 'get'] });
  host.generation = 2;
  await binding.invoke({ operation: 'delete', data: new Uint8Array(0), metadata: [] });
  assert.deepEqual(calls.slice(3), ['2:output#operations', '2:output#invoke'], 'a new generation is asked again');
});

test('across a swap, each event is acknowledged on the instance that handed it out, and the old instance closes once none waits', async () => {
  const { host, instances } = scriptedHost();
  const reader = await adaptBinding(host).openReader();
  assert.equal(reader.canWait, true);
  const first = await reader.read(1, 0);
  assert.deepEqual(first.map((e) => e.id), ['a']);

  host.generation = 2; // a hot swap while `a` is with the app
  const second = await reader.read(5, 0);
  assert.deepEqual(second.map((e) => e.id), ['c'], 'the next read goes to the new generation');
  assert.equal(instances[0]!.closed, false, 'the old instance waits for the verdict on `a`');

  await reader.ack('a', 'failure');
  assert.deepEqual(instances[0]!.acks, ['a:failure'], 'the verdict reaches the instance that holds `a`, which can deliver it again');
  assert.equal(instances[0]!.closed, true);
  await reader.ack('c', 'success');
  assert.deepEqual(instances[1]!.acks, ['c:success']);

  await assert.rejects(reader.ack('zzz', 'success'), /event "zzz" is not one it handed out/);
  await reader.close();
  assert.equal(instances[1]!.closed, true);
  assert.deepEqual(await reader.read(1, 0), [], 'a closed reader reads nothing');
});

test('a binding that answers more events than asked is refused whole', async () => {
  const { host } = scriptedHost();
  host.dedicatedInstance = async () => ({ call: async () => ok([event('x'), event('y')]), close: async () => undefined });
  const reader = await adaptBinding(host).openReader();
  await assert.rejects(reader.read(1, 0), /answered a read for at most 1 events with 2; the batch was refused/);
});
