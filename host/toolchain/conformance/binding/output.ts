// Output bindings: the operations listed, each invocable without a trap (with the run's
// metadata a binding may well answer an error, such as a server it cannot reach: that is an
// answer, a trap is not), an unlisted operation refused with invalid-argument, 1 MiB of data
// taken without a trap, and a repeated invocation answered in the same shape. The component
// is called straight, so it sees what the host's adapter would refuse first.
import type { InvokeRequest, InvokeResponse } from '../../../../abi/ts/binding.ts';
import type { WitError, WitResult } from '../../../../abi/ts/types.ts';
import { exportsOutput, fail, noTrap, shownList, shownResult, skipCheck, utf8, type Check, type CheckContext } from './harness.ts';

/** The large-data check's payload: a JSON string, as daprd passes a request's `data`. */
const LARGE_BYTES = 1024 * 1024;

/** `operations()`, each name once, in order; fails on a trap, skips when it lists none. */
async function operationsOf(cx: CheckContext): Promise<string[]> {
  const listed = [...new Set(await noTrap(cx.output.operations(), 'operations()'))];
  if (listed.length === 0) skipCheck('operations() lists no operation');
  return listed;
}

const request = (operation: string, data: Uint8Array): InvokeRequest => ({ operation, data, metadata: [] });

/** The answer to an invocation; fails naming the operation and the data when it traps. */
const invoke = (cx: CheckContext, req: InvokeRequest, data: string): Promise<WitResult<InvokeResponse, WitError>> =>
  noTrap(cx.output.invoke(req), `invoke of ${JSON.stringify(req.operation)} with ${data}`);

/** What must not change between two answers to one request: whether there is data, the metadata keys, the content type. */
function shapeOf(response: InvokeResponse): string {
  const keys = [...new Set(response.metadata.map(([k]) => k))].sort();
  return `${response.data.length > 0 ? 'data' : 'no data'}; metadata keys ${keys.length > 0 ? keys.join(', ') : 'none'}; content type ${response.contentType ?? 'none'}`;
}

export const outputChecks: Check[] = [
  {
    area: 'operations',
    name: 'operations() lists at least one operation, each once, none with an empty name',
    skip: exportsOutput,
    async run({ output }) {
      const listed = await noTrap(output.operations(), 'operations()');
      if (listed.length === 0) fail('operations() lists no operation; an output binding lists the operations invoke takes (Dapr\'s create, get, delete, list, or its own)');
      if (listed.some((op) => op.trim() === '')) fail(`operations() lists an empty name (it lists ${JSON.stringify(listed)})`);
      const twice = [...new Set(listed.filter((op, i) => listed.indexOf(op) !== i))];
      if (twice.length > 0) fail(`operations() lists ${twice.map((op) => JSON.stringify(op)).join(', ')} more than once (it lists ${JSON.stringify(listed)})`);
      return `operations: ${shownList(listed)}`;
    },
  },
  {
    area: 'invoke',
    name: 'every operation it lists answers ok or an error, without data and with JSON data, never a trap',
    skip: exportsOutput,
    async run(cx) {
      const answers: string[] = [];
      for (const operation of await operationsOf(cx)) {
        const empty = await invoke(cx, request(operation, new Uint8Array()), 'no data');
        const json = await invoke(cx, request(operation, utf8('{"conformance":true}')), 'JSON data');
        answers.push(`${operation}: ${empty.tag === json.tag ? empty.tag : `${empty.tag} without data, ${json.tag} with JSON`}${json.tag === 'err' ? ` (${json.val.tag})` : ''}`);
      }
      return shownList(answers);
    },
  },
  {
    area: 'invoke',
    name: 'an operation it does not list is refused with invalid-argument, not a trap',
    skip: exportsOutput,
    async run(cx) {
      const listed = await noTrap(cx.output.operations(), 'operations()');
      let operation = `conformance-unlisted-${cx.subject.runId}`;
      while (listed.includes(operation)) operation += '-x';
      const answer = await invoke(cx, request(operation, utf8('{}')), 'JSON data');
      const what = `invoke of operation ${JSON.stringify(operation)}, which operations() does not list,`;
      if (answer.tag === 'ok') fail(`${what} succeeded; expected err(invalid-argument)`);
      if (answer.val.tag !== 'invalid-argument') fail(`${what} answered ${shownResult(answer)}; expected err(invalid-argument)`);
    },
  },
  {
    area: 'invoke',
    name: '1 MiB of data to every operation it lists is answered (ok or an error), never a trap',
    skip: exportsOutput,
    async run(cx) {
      const data = utf8(`"${'x'.repeat(LARGE_BYTES - 2)}"`);
      for (const operation of await operationsOf(cx)) await invoke(cx, request(operation, data), '1 MiB of data (a JSON string)');
    },
  },
  {
    area: 'invoke',
    name: 'a repeated invocation answers in the same shape: data or none, metadata keys, content type',
    skip: exportsOutput,
    async run(cx) {
      const compared: string[] = [];
      for (const operation of await operationsOf(cx)) {
        const req = request(operation, utf8('{"conformance":true}'));
        const first = await invoke(cx, req, 'JSON data');
        const second = await invoke(cx, req, 'JSON data, again');
        // An operation the run's metadata cannot serve answers errors: nothing to compare.
        if (first.tag === 'err' || second.tag === 'err') continue;
        const [a, b] = [shapeOf(first.val), shapeOf(second.val)];
        if (a !== b) fail(`invoke of ${JSON.stringify(operation)} answered ${a} the first time and ${b} the second`);
        compared.push(operation);
      }
      if (compared.length === 0) skipCheck('no operation answered ok twice with the run\'s metadata: nothing to compare');
      return `compared: ${shownList(compared)}`;
    },
  },
];
