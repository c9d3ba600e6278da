// Where AssemblyScript's `abort` goes (the build passes `--use abort=` this function): the
// message and source position are logged through the host's `log`, then the call traps.
// Without it every module would import `env.abort`, which the host does not grant.
import { log } from "./host";

let aborting = false;

export function tesseraAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  // Logging allocates; an abort raised while logging one (say, out of memory) just traps.
  if (!aborting) {
    aborting = true;
    const what = message !== null ? message : "abort";
    const where = fileName !== null ? fileName : "?";
    log.error(what + " (at " + where + ":" + line.toString() + ":" + column.toString() + ")");
  }
  unreachable();
}
