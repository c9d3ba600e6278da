// The output side of a binding (WIT interface `output`): operations the app invokes through
// `POST /v1.0/bindings/{name}`. The generated glue (./generated/output-exports.ts) calls the
// registered implementation; a binding registers through "./binding".
import { InvokeRequest, InvokeResponse } from "./generated/output";
import { Registration } from "./registration";
import { StateError } from "./types";

const NO_RESPONSE = new InvokeResponse();

/** What `invoke` answers: a response (empty data: HTTP 204 to the app), or an error. */
export class InvokeResult {
  constructor(public value: InvokeResponse, public error: StateError | null) {}

  static ok(response: InvokeResponse): InvokeResult {
    return new InvokeResult(response, null);
  }

  static failed(error: StateError): InvokeResult {
    return new InvokeResult(NO_RESPONSE, error);
  }
}

/** What the host calls on an output binding, whichever class implements it. */
export interface Output {
  operations(): string[];
  invoke(req: InvokeRequest): InvokeResult;
}

/** What the registration functions of "./binding" set. */
export const outputRegistration = new Registration<Output>(
  "no output binding registered: call registerOutputBinding(new MyBinding()) (or registerInputOutputBinding) at the top level of the entry file",
);

/** The registered output side, which the generated exports call; traps with instructions when none was registered. */
export function outputImplementation(): Output {
  return outputRegistration.get();
}
