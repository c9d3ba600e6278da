// Presents a live `binding` component as the typed `Binding` the bindings building block
// uses. Output: the operations are read once per generation and an operation outside them
// is refused before any call. Input: a reader on an instance of its own when reads can
// wait (so a waiting read never holds up invocations), following hot swaps: after a swap
// its next read goes to the new generation, and events the old one handed out but the app
// has not yet acknowledged are acknowledged on the instance that handed them out.
import type { Binding, BindingEvent, BindingReader, EventOutcome, InvokeRequest } from '../../../abi/ts/binding.ts';
import type { WitResult } from '../../../abi/ts/types.ts';
import { bindingExports } from '../../../abi/ts/wit/binding.ts';
import { inputExports, type InputExports } from '../../../abi/ts/wit/input.ts';
import { outputExports } from '../../../abi/ts/wit/output.ts';
import { TesseraError } from '../../errors.ts';
import type { AdapterHost, DedicatedInstance } from './kind.ts';
import { unwrapResult } from './wit-result.ts';

type Caller = (fn: string, args: unknown[]) => Promise<unknown>;

/** The error an operation the binding does not list gets, naming both. */
export function unsupportedOperation(binding: string, operation: string, supported: readonly string[]): TesseraError {
  const listed = supported.length > 0 ? `it supports ${supported.join(', ')}` : 'it supports no output operation (it is an input binding)';
  return new TesseraError('ERR_INVOKE_OUTPUT_BINDING', `binding "${binding}" does not support operation "${operation}": ${listed}`);
}

/** One instance's input calls, and whether a newer generation has replaced it. */
interface Source {
  calls: InputExports;
  instance: DedicatedInstance | undefined;
  /** Events it handed out that wait for the app's verdict. */
  pending: number;
  retired: boolean;
}

class Reader implements BindingReader {
  readonly #host: AdapterHost;
  readonly canWait: boolean;
  #generation = -1;
  #source: Source | undefined;
  /** Events handed out and not yet acknowledged, by id, with the source that handed each out. */
  readonly #pending = new Map<string, Source>();
  #closed = false;

  constructor(host: AdapterHost) {
    this.#host = host;
    this.canWait = host.blocking;
  }

  /** Reads from the running generation (again, after a swap). */
  async open(): Promise<void> {
    const previous = this.#source;
    const instance = this.#host.blocking ? await this.#host.dedicatedInstance() : undefined;
    const caller: Caller = instance ? (fn, args) => instance.call(fn, args) : (fn, args) => this.#host.call(fn, args);
    this.#source = { calls: inputExports(caller, 'input#'), instance, pending: 0, retired: false };
    this.#generation = this.#host.generation;
    if (previous) this.#retire(previous);
  }

  /** An old instance stays open while events it handed out wait for their verdict. */
  #retire(source: Source): void {
    source.retired = true;
    if (source.pending === 0) void source.instance?.close();
  }

  async read(maxEvents: number, timeoutMs: number): Promise<BindingEvent[]> {
    if (this.#closed) return [];
    if (this.#source === undefined || this.#generation !== this.#host.generation) await this.open();
    const source = this.#source!;
    const events = unwrapResult(this.#host.name, 'read', await source.calls.read(maxEvents, timeoutMs));
    // A binding is not believed past what was asked of it: the batch is refused whole.
    if (events.length > maxEvents) {
      throw new TesseraError('ERR_INTERNAL', `binding "${this.#host.name}" answered a read for at most ${maxEvents} events with ${events.length}; the batch was refused`);
    }
    for (const e of events) {
      if (this.#pending.has(e.id)) continue;
      this.#pending.set(e.id, source);
      source.pending++;
    }
    return events;
  }

  async ack(eventId: string, outcome: EventOutcome): Promise<void> {
    const source = this.#pending.get(eventId);
    if (source === undefined) throw new TesseraError('ERR_INTERNAL', `binding "${this.#host.name}": event "${eventId}" is not one it handed out, or was acknowledged already`);
    this.#pending.delete(eventId);
    try {
      unwrapResult(this.#host.name, 'ack', await source.calls.ack(eventId, outcome));
    } finally {
      source.pending--;
      if (source.retired && source.pending === 0) void source.instance?.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#source) this.#retire(this.#source);
  }
}

export function adaptBinding(host: AdapterHost): Binding {
  const call: Caller = (fn, args) => host.call(fn, args);
  const binding = bindingExports(call);
  const output = outputExports(call, 'output#');
  let known: { generation: number; operations: Promise<string[]> } | undefined;
  /** The operations last read, for metadata (which cannot wait for a call). */
  let lastRead: string[] = [];
  const operations = (): Promise<string[]> => {
    if (!host.exports.has('output')) return Promise.resolve([]);
    if (known?.generation !== host.generation) {
      const operations = output.operations();
      // A failed read is not kept: the next request asks again.
      operations.then(
        (read) => (lastRead = read),
        () => (known = undefined),
      );
      known = { generation: host.generation, operations };
    }
    return known.operations;
  };
  const unwrap = <T>(fn: string, result: WitResult<T>): T => unwrapResult(host.name, fn, result);
  return {
    get input() {
      return host.exports.has('input');
    },
    get output() {
      return host.exports.has('output');
    },
    operations,
    describe() {
      const input = host.exports.has('input');
      const isOutput = host.exports.has('output');
      // Asks for the operations of a new generation; this answer has the ones last read.
      if (isOutput) void operations().catch(() => undefined);
      return { direction: [input ? 'input' : '', isOutput ? 'output' : ''].filter(Boolean).join(', '), operations: isOutput ? lastRead : [] };
    },
    async invoke(req: InvokeRequest) {
      const supported = await operations();
      if (!supported.includes(req.operation)) throw unsupportedOperation(host.name, req.operation, supported);
      return unwrap('invoke', await output.invoke(req));
    },
    async openReader() {
      if (!host.exports.has('input')) throw new TesseraError('ERR_INTERNAL', `binding "${host.name}" is not an input binding (it exports no \`input\`)`);
      const reader = new Reader(host);
      await reader.open();
      return reader;
    },
    ping: async () => unwrap('ping', await binding.ping()),
  };
}
