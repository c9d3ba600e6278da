// The AssemblyScript SDK's binding worlds (sdk/assemblyscript/assembly/binding.ts): a binding
// with both directions (InputOutputBinding), built at test time outside the checkout with the
// builder of the bundled components and driven through the real host, turns each invocation
// into an event it then reads out, with the data and metadata intact; an entry file that
// forgets to register its binding traps, logging a message that says what to call.
// (OutputBinding is driven by the scaffold's test and bindings-cron-schedule.test.ts,
// InputBinding by bindings.cron's.)
import assert from 'node:assert/strict';
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import type { WitResult } from '../../abi/ts/wit/abi.ts';
import type { Event } from '../../abi/ts/wit/input.ts';
import { createLogger, silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { buildAssemblyScriptComponent } from '../../host/toolchain/assemblyscript.ts';
import { SDK_DIRS } from '../../host/toolchain/build-support.ts';
import { tempDir } from '../support/temp-dir.ts';

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Each `create` becomes an event, read out in order; `register: false` leaves out the registration. */
function loopSource(sdk: string, register: boolean): string {
  return `export * from "${sdk}/binding-exports";
export * from "${sdk}/input-exports";
export * from "${sdk}/output-exports";
import {
  Event, EventOutcome, InputOutputBinding, InvokeRequest, InvokeResponse, InvokeResult, Metadata,
  ReadResult, registerInputOutputBinding, StateError,
} from "${sdk}/binding";

class Loop extends InputOutputBinding {
  private queue: Event[] = [];
  private next: u32 = 1;

  init(config: Metadata): StateError | null {
    return config.has("refuse") ? StateError.invalidArgument("refuse: " + config.get("refuse")!) : null;
  }

  operations(): string[] {
    return ["create"];
  }

  invoke(req: InvokeRequest): InvokeResult {
    if (req.operation != "create") return InvokeResult.failed(StateError.invalidArgument("no operation " + req.operation));
    const id = "e" + (this.next++).toString();
    this.queue.push(new Event(id, req.data, req.metadata, "text/plain"));
    return InvokeResult.ok(new InvokeResponse(Uint8Array.wrap(String.UTF8.encode(id)), new Metadata().append("id", id), null));
  }

  read(maxEvents: u32, timeoutMs: u32): ReadResult {
    return ReadResult.ok(this.queue.splice(0, min<i32>(<i32>maxEvents, this.queue.length)));
  }

  ack(eventId: string, outcome: EventOutcome): StateError | null {
    return outcome == EventOutcome.Success ? null : StateError.unavailable(eventId + " failed");
  }
}

${register ? 'registerInputOutputBinding(new Loop());' : ''}
`;
}

const dir = await tempDir('tessera-as-binding-');
after(() => dir.remove());

async function build(name: string, register: boolean): Promise<CompiledComponent> {
  const folder = join(dir.path, name);
  await mkdir(join(folder, 'assembly'), { recursive: true });
  await writeFile(join(folder, 'assembly', 'index.ts'), loopSource(relative(join(folder, 'assembly'), SDK_DIRS.as), register));
  await writeFile(join(folder, 'manifest.json'), JSON.stringify({ kind: 'binding', type: `bindings.${name}`, version: 'v1', abi: ABI_VERSION, capabilities: ['log'] }));
  return CompiledComponent.compile(await buildAssemblyScriptComponent(folder, join(folder, `${name}.wasm`)));
}

test('an InputOutputBinding exports both directions: what is invoked is read back as events', { timeout: 120_000 }, async () => {
  const compiled = await build('loop', true);
  assert.deepEqual([...compiled.optionalExports].sort(), ['input', 'output']);
  const live = await LiveComponent.start(compiled, { name: 'loop', config: new Map(), logger: silentLogger });
  after(() => live.close());

  assert.deepEqual(await live.call('output#operations', []), ['create']);
  for (const text of ['"one"', '{"n":2}']) {
    const result = (await live.call('output#invoke', [{ operation: 'create', data: encode(text), metadata: [['k', text]] }])) as WitResult<{ data: Uint8Array; metadata: [string, string][] }, unknown>;
    assert.equal(result.tag, 'ok');
  }
  const read = (await live.call('input#read', [10, 0])) as WitResult<Event[], unknown>;
  assert.equal(read.tag, 'ok');
  const events = read.val as Event[];
  assert.deepEqual(
    events.map((e) => [e.id, decode(e.data), e.metadata, e.contentType]),
    [
      ['e1', '"one"', [['k', '"one"']], 'text/plain'],
      ['e2', '{"n":2}', [['k', '{"n":2}']], 'text/plain'],
    ],
  );
  assert.deepEqual(await live.call('input#ack', ['e1', 'success']), { tag: 'ok', val: undefined });
  assert.deepEqual(await live.call('input#ack', ['e2', 'failure']), { tag: 'err', val: { tag: 'unavailable', val: 'e2 failed' } });

  await assert.rejects(LiveComponent.start(compiled, { name: 'loop', config: new Map([['refuse', 'x']]), logger: silentLogger }), /refuse: x/);
});

test('a binding whose entry file registers none traps, and its log says what to call', { timeout: 120_000 }, async () => {
  const compiled = await build('unregistered', false);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', json: false, write: (line) => lines.push(line) });
  await assert.rejects(LiveComponent.start(compiled, { name: 'unregistered', config: new Map(), logger }), /trapped in init/);
  assert.match(lines.join('\n'), /no binding registered: call registerInputBinding\(new MyBinding\(\)\)/);
});
