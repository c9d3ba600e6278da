// RESP framing for the redis capability: reply boundaries found across any split of the
// stream, broken streams refused, and commands checked before they go on a shared connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCommands, encodeCommand, ReplyScanner, RespFramingError } from '../../../../host/sandbox/capabilities/resp-frames.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Ends of the replies in `stream` when it arrives in `chunks` pieces cut at `cuts`. */
function ends(stream: Uint8Array, cuts: number[]): number[] {
  const scanner = new ReplyScanner();
  const found: number[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    const offset = from;
    scanner.scan(stream.subarray(from, cut), (end) => found.push(offset + end));
    from = cut;
  }
  return found;
}

// Every RESP2 shape Redis sends: status, error, integer, bulk (with CRLF inside), null bulk,
// empty and null arrays, and arrays nested with all of them.
const REPLIES = ['+OK\r\n', '-ERR wrong\r\n', ':42\r\n', '$5\r\na\r\nbc\r\n', '$-1\r\n', '*0\r\n', '*-1\r\n', '*3\r\n$1\r\nx\r\n*2\r\n:1\r\n*1\r\n$0\r\n\r\n$-1\r\n', '$0\r\n\r\n'];

test('finds the end of every reply, wherever the chunks are cut', () => {
  const stream = bytes(REPLIES.join(''));
  const expected: number[] = [];
  let at = 0;
  for (const reply of REPLIES) expected.push((at += bytes(reply).length));
  assert.deepEqual(ends(stream, []), expected);
  for (let cut = 1; cut < stream.length; cut++) assert.deepEqual(ends(stream, [cut]), expected, `one cut at ${cut}`);
  for (let a = 1; a < stream.length; a += 3) for (let b = a + 1; b < stream.length; b += 5) assert.deepEqual(ends(stream, [a, b]), expected, `cuts at ${a} and ${b}`);
  // Byte by byte.
  assert.deepEqual(ends(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1)), expected);
});

test('a bulk body is skipped by its length, not scanned: its bytes may look like anything', () => {
  const body = '*9\r\n$3\r\n-ERR\r\n';
  const stream = bytes(`$${body.length}\r\n${body}\r\n:1\r\n`);
  assert.deepEqual(ends(stream, [7]), [stream.length - 4, stream.length]);
});

test('a stream that is not RESP2 is refused, saying what is wrong', () => {
  const broken = (s: string): string => {
    try {
      new ReplyScanner().scan(bytes(s), () => {});
    } catch (err) {
      assert.ok(err instanceof RespFramingError);
      return err.message;
    }
    return 'accepted';
  };
  assert.match(broken('%1\r\n'), /byte 0x25, not a RESP2 type/);
  assert.match(broken('+OK\n'), /does not end in CRLF/);
  assert.match(broken('$x\r\n'), /bulk string has no valid length/);
  assert.match(broken('*-2\r\n'), /array has no valid length/);
  assert.match(broken('*1\r\n'.repeat(33)), /nests deeper than 32 levels/);
  assert.match(broken(`+${'a'.repeat(70_000)}`), /longer than 65536 bytes/);
  // The same long line in pieces is refused as soon as it passes the limit.
  const scanner = new ReplyScanner();
  scanner.scan(bytes(`+${'a'.repeat(40_000)}`), () => {});
  assert.throws(() => scanner.scan(bytes('a'.repeat(40_000)), () => {}), /longer than 65536 bytes/);
});

test('commands are checked: their count, their framing, and none that would change or hold the shared connection', () => {
  const cmds = (...commands: string[][]): Uint8Array => Buffer.concat(commands.map((c) => encodeCommand(c)));
  assert.equal(checkCommands(cmds(['GET', 'k'], ['HGETALL', 'h']), 2), undefined);
  assert.match(checkCommands(cmds(['GET', 'k']), 2)!, /holds 1 commands, count says 2/);
  assert.match(checkCommands(cmds(['GET', 'k'], ['GET', 'j']), 1)!, /holds more than the 1 commands count says/);
  assert.match(checkCommands(cmds(['GET', 'k']), 0)!, /count must be 1 to 10000, got 0/);
  assert.match(checkCommands(cmds(['GET', 'k'], ['multi']), 2)!, /command 2 \(MULTI\) would change or hold the shared connection; use the tcp capability/);
  for (const name of ['SELECT', 'AUTH', 'SUBSCRIBE', 'CLIENT', 'BLPOP', 'EXEC', 'WATCH']) assert.match(checkCommands(cmds([name, 'x']), 1)!, new RegExp(`\\(${name}\\)`));
  assert.match(checkCommands(cmds(['XREADGROUP', 'GROUP', 'g', 'c', 'block', '10', 'STREAMS', 's', '>']), 1)!, /XREADGROUP with BLOCK/);
  assert.equal(checkCommands(cmds(['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '10', 'STREAMS', 's', '>']), 1), undefined);
  assert.match(checkCommands(bytes('*1\r\n$3\r\nGET\r\n*2\r\n$3\r\nGET\r\n$9\r\nk\r\n'), 2)!, /command 2 \(GET\): a bulk string at byte \d+ runs past its length/);
  assert.match(checkCommands(bytes('PING\r\n'), 1)!, /command 1: expected a RESP array header at byte 0/);
  assert.match(checkCommands(bytes('*1\r\n:1\r\n'), 1)!, /expected a RESP bulk string header at byte 4/);
  assert.match(checkCommands(bytes('*0\r\n'), 1)!, /command 1 is an empty array/);
  // The work of a check is bounded by the arguments it may hold, not the bytes.
  assert.match(checkCommands(cmds(['DEL', ...Array.from({ length: 65_536 }, (_, i) => `k${i}`)]), 1)!, /holds more than 65536 arguments in all/);
  assert.equal(checkCommands(cmds(['DEL', ...Array.from({ length: 65_535 }, (_, i) => `k${i}`)]), 1), undefined);
});
