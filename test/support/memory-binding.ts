// A binding double for the building block's tests: an output side with operations `echo`
// (answers the request's data and metadata back), `empty` (answers no data) and `fail` (the
// binding's own error), and a queue-like input side that a test feeds with `emit` and that
// hands an event out again after the app's `failure`, as a queue would.
import type { Binding, BindingEvent, BindingReader, EventOutcome, InvokeRequest, InvokeResponse } from '../../abi/ts/binding.ts';
import type { Metadata } from '../../abi/ts/types.ts';
import { TesseraError } from '../../host/errors.ts';
import { unsupportedOperation } from '../../host/sandbox/kinds/binding-adapter.ts';

export class MemoryBinding implements Binding {
  readonly name: string;
  readonly input: boolean;
  readonly output: boolean;
  readonly invocations: InvokeRequest[] = [];
  readonly acks: { id: string; outcome: EventOutcome }[] = [];
  readonly #queue: BindingEvent[] = [];
  readonly #outstanding = new Map<string, BindingEvent>();
  #nextId = 1;
  readers = 0;

  constructor(name: string, directions: { input?: boolean; output?: boolean } = { output: true }) {
    this.name = name;
    this.input = directions.input ?? false;
    this.output = directions.output ?? false;
  }

  async operations(): Promise<string[]> {
    return this.output ? ['echo', 'empty', 'fail'] : [];
  }

  describe(): { direction: string; operations: string[] } {
    return { direction: [this.input && 'input', this.output && 'output'].filter(Boolean).join(', '), operations: this.output ? ['echo', 'empty', 'fail'] : [] };
  }

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    this.invocations.push(req);
    switch (req.operation) {
      case 'echo':
        return { data: req.data, metadata: req.metadata, contentType: 'text/plain' };
      case 'empty':
        return { data: new Uint8Array(0), metadata: [['done', 'yes']] };
      case 'fail':
        throw new TesseraError('ERR_INTERNAL', `component "${this.name}" invoke: internal: the engine said no`, { componentError: { tag: 'internal', val: 'the engine said no' } });
      default:
        throw unsupportedOperation(this.name, req.operation, await this.operations());
    }
  }

  /** Queues an event for the input side. */
  emit(data: string, metadata: Metadata = [], contentType?: string): string {
    const id = `e${this.#nextId++}`;
    this.#queue.push({ id, data: new TextEncoder().encode(data), metadata, ...(contentType === undefined ? {} : { contentType }) });
    return id;
  }

  /** Events queued or handed out and not yet acknowledged `success`. */
  get pending(): number {
    return this.#queue.length + this.#outstanding.size;
  }

  async openReader(): Promise<BindingReader> {
    this.readers++;
    return {
      canWait: false,
      read: async (max: number) => {
        const events = this.#queue.splice(0, max);
        for (const e of events) this.#outstanding.set(e.id, e);
        return events;
      },
      ack: async (id: string, outcome: EventOutcome) => {
        this.acks.push({ id, outcome });
        const event = this.#outstanding.get(id);
        this.#outstanding.delete(id);
        if (event !== undefined && outcome === 'failure') this.#queue.unshift(event);
      },
      close: async () => undefined,
    };
  }

  async ping(): Promise<void> {}
}
