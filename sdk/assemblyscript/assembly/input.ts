// The input side of a binding (WIT interface `input`): events from outside that the host pulls
// with `read` and settles with `ack` once the app answered. The generated glue
// (./generated/input-exports.ts) calls the registered implementation; a binding registers
// through "./binding".
import { Event, EventOutcome } from "./generated/input";
import { Registration } from "./registration";
import { StateError } from "./types";

/** What `read` answers: the events ready (possibly none), or an error. */
export class ReadResult {
  constructor(public value: Event[], public error: StateError | null) {}

  static ok(events: Event[]): ReadResult {
    return new ReadResult(events, null);
  }

  /** No event within the time allowed. */
  static none(): ReadResult {
    return new ReadResult([], null);
  }

  static failed(error: StateError): ReadResult {
    return new ReadResult([], error);
  }
}

/** What the host calls on an input binding, whichever class implements it. */
export interface Input {
  read(maxEvents: u32, timeoutMs: u32): ReadResult;
  ack(eventId: string, outcome: EventOutcome): StateError | null;
}

/** What the registration functions of "./binding" set. */
export const inputRegistration = new Registration<Input>(
  "no input binding registered: call registerInputBinding(new MyBinding()) (or registerInputOutputBinding) at the top level of the entry file",
);

/** The registered input side, which the generated exports call; traps with instructions when none was registered. */
export function inputImplementation(): Input {
  return inputRegistration.get();
}
