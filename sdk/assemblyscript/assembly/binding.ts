// The binding worlds as AssemblyScript sees them (`abi/wit/bindings.wit`): the base classes a
// Dapr binding extends — `InputBinding` (events from outside, pulled by the host),
// `OutputBinding` (operations the app invokes) or `InputOutputBinding` (both, Dapr's
// `direction: input, output`) — their typed values (generated: ./generated/input.ts,
// ./generated/output.ts) and their registration. The generated glue
// (./generated/{binding,input,output}-exports.ts) lifts and lowers them.
//
// A binding imports everything from this module, which also re-exports the shared types and
// host functions. It is not re-exported from "./index", so a state store's bytes do not change.
import { EventOutcome } from "./generated/input";
import { InvokeRequest } from "./generated/output";
import { Input, inputRegistration, ReadResult } from "./input";
import { InvokeResult, Output, outputRegistration } from "./output";
import { Registration } from "./registration";
import { Metadata, StateError } from "./types";

export { Event, EventOutcome } from "./generated/input";
export { InvokeRequest, InvokeResponse } from "./generated/output";
export { ReadResult } from "./input";
export { InvokeResult } from "./output";
export { Box, Metadata, StateError, StateErrorKind } from "./types";
export { clock, log, LogLevel, random, sleep, tcp } from "./host";
export { http, HttpResponse, HttpSendResult } from "./http";
export { timezone, UtcOffsetMinutesResult } from "./timezone";

/**
 * What every binding is, whichever its direction (WIT interface `binding`). Extend
 * `InputBinding`, `OutputBinding` or `InputOutputBinding` rather than this class.
 *
 * The host calls `init` first, then one method at a time and never re-enters: no locking is
 * needed. Success is `null`; failure is a `StateError`.
 */
export abstract class Binding {
  /**
   * Called once, before any other method, with the Component YAML's `spec.metadata`. A bad
   * value answers `StateError.invalidArgument(...)` quoting it: the component then fails to load.
   */
  init(config: Metadata): StateError | null {
    return null;
  }

  /** Checks the binding can serve; answer `StateError.unavailable(...)` when what it speaks to is unreachable. */
  ping(): StateError | null {
    return null;
  }
}

/**
 * An output binding: implement `operations` (Dapr's names — `create`, `get`, `delete`, `list`
 * — or the binding's own) and `invoke`; the host refuses an operation not in the list before
 * calling `invoke`. Register it with `registerOutputBinding`.
 */
export abstract class OutputBinding extends Binding implements Output {
  abstract operations(): string[];
  abstract invoke(req: InvokeRequest): InvokeResult;
}

/**
 * An input binding: the host calls `read` in a loop and delivers each event to the app, then
 * calls `ack` with the app's verdict. Register it with `registerInputBinding`.
 */
export abstract class InputBinding extends Binding implements Input {
  /**
   * Up to `maxEvents` events. A binding that can wait (it imports `sleep`, `tcp` or `http`)
   * may block up to `timeoutMs` for the first one; `ReadResult.none()` when none came.
   */
  abstract read(maxEvents: u32, timeoutMs: u32): ReadResult;

  /**
   * The app's verdict on event `eventId`: `EventOutcome.Failure` should bring it back when the
   * binding can deliver again (a queue). The default accepts and forgets, as a timer must.
   */
  ack(eventId: string, outcome: EventOutcome): StateError | null {
    return null;
  }
}

/** A binding with both directions: `read`/`ack` as `InputBinding`, `operations`/`invoke` as `OutputBinding`. */
export abstract class InputOutputBinding extends Binding implements Input, Output {
  abstract read(maxEvents: u32, timeoutMs: u32): ReadResult;

  ack(eventId: string, outcome: EventOutcome): StateError | null {
    return null;
  }

  abstract operations(): string[];
  abstract invoke(req: InvokeRequest): InvokeResult;
}

const registered = new Registration<Binding>(
  "no binding registered: call registerInputBinding(new MyBinding()) (or registerOutputBinding, registerInputOutputBinding) at the top level of the entry file",
);

/** Makes `binding` the implementation behind the exports of `binding` and `output`; call it once, at top level. */
export function registerOutputBinding(binding: OutputBinding): void {
  registered.set(binding);
  outputRegistration.set(binding);
}

/** Makes `binding` the implementation behind the exports of `binding` and `input`; call it once, at top level. */
export function registerInputBinding(binding: InputBinding): void {
  registered.set(binding);
  inputRegistration.set(binding);
}

/** Makes `binding` the implementation behind the exports of `binding`, `input` and `output`; call it once, at top level. */
export function registerInputOutputBinding(binding: InputOutputBinding): void {
  registered.set(binding);
  inputRegistration.set(binding);
  outputRegistration.set(binding);
}

/** The registered binding, which the generated exports call; traps with instructions when the entry file forgot to register one. */
export function bindingImplementation(): Binding {
  return registered.get();
}
