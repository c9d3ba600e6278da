// The output side of a binding (WIT interface `output`): operations the app invokes through
// `POST /v1.0/bindings/{name}`. The generated glue (./generated/output-exports.ts) calls the
// registered implementation; a binding registers through "./binding".
import { InvokeRequest, InvokeResponse } from "./generated/output";
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

let registered: Output | null = null;

/** Called by the registration functions of "./binding". */
export function setOutput(output: Output): void {
  registered = output;
}

/** The registered output side, which the generated exports call; traps with instructions when none was registered. */
export function outputImplementation(): Output {
  const output = registered;
  if (output === null) {
    throw new Error("no output binding registered: call registerOutputBinding(new MyBinding()) (or registerInputOutputBinding) at the top level of the entry file");
  }
  return output;
}
