// Dapr's state query over items a store keeps at hand (state.memory): the filter, the sort
// and the page of a `QueryRequest` applied to UTF-8 JSON values. Written by hand because
// AssemblyScript has no JSON parser, and a store needs only a little of one: a value is
// scanned for the path a filter or sort key names, and only the value found is decoded.
//
// Comparison rules (the README's "State query" section documents them): a string equals a
// string of the same characters (escapes decoded), a number a number of the same value (`1`
// equals `1.0`), `true`/`false`/`null` themselves, and an object or array the same JSON
// text once spaces are removed. Sorting orders by type first (absent, null, booleans,
// numbers, strings, then objects and arrays), then by value; items equal on every sort key
// are ordered by key. A value that is not JSON has every path absent.
import { Filter, FilterKind, QueryItem, QueryRequest, QueryResponse, SortKey } from "./generated/query";
import { QueryResult } from "./query";
import { Metadata, StateError } from "./types";

/** An item a store offers to a query: its whole key, its value, its ETag. */
export class QueryCandidate {
  constructor(public key: string, public value: Uint8Array, public etag: string | null) {}
}

/** The type ranks of sorting, lowest first. */
enum Kind {
  Missing = 0,
  Null = 1,
  Bool = 2,
  Number = 3,
  String = 4,
  Other = 5,
}

/** A decoded JSON value (or the absence of one), as the comparisons need it. */
class JsonValue {
  constructor(public kind: Kind, public num: f64 = 0, public text: string = "") {}

  equals(other: JsonValue): bool {
    if (this.kind != other.kind) return false;
    if (this.kind == Kind.Bool || this.kind == Kind.Number) return this.num == other.num;
    return this.text == other.text;
  }

  compare(other: JsonValue): i32 {
    if (this.kind != other.kind) return <i32>this.kind - <i32>other.kind;
    if (this.kind == Kind.Bool || this.kind == Kind.Number) return this.num < other.num ? -1 : this.num > other.num ? 1 : 0;
    return compareStrings(this.text, other.text);
  }
}

const MISSING = new JsonValue(Kind.Missing);
const NULL_VALUE = new JsonValue(Kind.Null);
const TRUE_VALUE = new JsonValue(Kind.Bool, 1);
const FALSE_VALUE = new JsonValue(Kind.Bool, 0);

function compareStrings(a: string, b: string): i32 {
  return a < b ? -1 : a > b ? 1 : 0;
}

@inline function isSpace(c: u8): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

function skipSpaces(b: Uint8Array, i: i32): i32 {
  while (i < b.length && isSpace(b[i])) i++;
  return i;
}

/** The index after the closing quote of the string whose opening quote is at `i`; -1 when it has none. */
function skipString(b: Uint8Array, i: i32): i32 {
  i++;
  while (i < b.length) {
    const c = b[i];
    if (c == 0x5c) {
      i += 2;
      continue;
    }
    if (c == 0x22) return i + 1;
    i++;
  }
  return -1;
}

/** The index after the value that starts at `i`; -1 when it is cut short. */
function skipValue(b: Uint8Array, i: i32): i32 {
  if (i >= b.length) return -1;
  const first = b[i];
  if (first == 0x22) return skipString(b, i);
  if (first == 0x7b || first == 0x5b) {
    let depth = 0;
    while (i < b.length) {
      const c = b[i];
      if (c == 0x22) {
        i = skipString(b, i);
        if (i < 0) return -1;
        continue;
      }
      if (c == 0x7b || c == 0x5b) depth++;
      else if (c == 0x7d || c == 0x5d) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // A number or a literal runs to the next delimiter.
  const start = i;
  while (i < b.length) {
    const c = b[i];
    if (c == 0x2c || c == 0x7d || c == 0x5d || isSpace(c)) break;
    i++;
  }
  return i > start ? i : -1;
}

function hexDigit(c: u8): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** The characters of the JSON string from `start` (its opening quote) to `end` (after its closing one), escapes decoded. */
function decodeString(b: Uint8Array, start: i32, end: i32): string {
  const from = start + 1;
  const to = end - 1;
  let plain = true;
  for (let i = from; i < to; i++) {
    if (b[i] == 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return String.UTF8.decodeUnsafe(b.dataStart + <usize>from, <usize>(to - from));
  let out = "";
  let run = from;
  let i = from;
  while (i < to) {
    if (b[i] != 0x5c) {
      i++;
      continue;
    }
    out += String.UTF8.decodeUnsafe(b.dataStart + <usize>run, <usize>(i - run));
    const e = i + 1 < to ? b[i + 1] : 0;
    let consumed = 2;
    if (e == 0x6e) out += "\n";
    else if (e == 0x74) out += "\t";
    else if (e == 0x72) out += "\r";
    else if (e == 0x62) out += "\b";
    else if (e == 0x66) out += "\f";
    else if (e == 0x75 && i + 5 < to) {
      let code = 0;
      for (let k = 2; k < 6 && code >= 0; k++) {
        const d = hexDigit(b[i + k]);
        code = d < 0 ? -1 : (code << 4) | d;
      }
      if (code >= 0) {
        out += String.fromCharCode(code);
        consumed = 6;
      }
    } else out += String.fromCharCode(e); // \" \\ \/ and anything else: the character itself
    i += consumed;
    run = i;
  }
  if (run < to) out += String.UTF8.decodeUnsafe(b.dataStart + <usize>run, <usize>(to - run));
  return out;
}

/** The JSON text from `start` to `end` without the spaces outside strings. */
function withoutSpaces(b: Uint8Array, start: i32, end: i32): string {
  const out = new Uint8Array(end - start);
  let n = 0;
  let i = start;
  while (i < end) {
    const c = b[i];
    if (c == 0x22) {
      const stop = min(skipString(b, i), end);
      for (let k = i; k < stop; k++) out[n++] = b[k];
      i = stop;
      continue;
    }
    if (!isSpace(c)) out[n++] = c;
    i++;
  }
  return String.UTF8.decodeUnsafe(out.dataStart, <usize>n);
}

/** The value from `start` to `end`, decoded. */
function decodeValue(b: Uint8Array, start: i32, end: i32): JsonValue {
  const c = b[start];
  if (c == 0x22) return new JsonValue(Kind.String, 0, decodeString(b, start, end));
  if (c == 0x6e) return NULL_VALUE;
  if (c == 0x74) return TRUE_VALUE;
  if (c == 0x66) return FALSE_VALUE;
  if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
    return new JsonValue(Kind.Number, parseFloat(String.UTF8.decodeUnsafe(b.dataStart + <usize>start, <usize>(end - start))));
  }
  return new JsonValue(Kind.Other, 0, withoutSpaces(b, start, end));
}

/** The value at `path` (object members, outermost first) in the JSON document `b`; MISSING when it has none. */
function valueAt(b: Uint8Array, path: string[]): JsonValue {
  let i = skipSpaces(b, 0);
  for (let p = 0; p < path.length; p++) {
    if (i >= b.length || b[i] != 0x7b) return MISSING;
    i = skipSpaces(b, i + 1);
    let found = false;
    while (i < b.length && b[i] != 0x7d) {
      if (b[i] != 0x22) return MISSING;
      const keyEnd = skipString(b, i);
      if (keyEnd < 0) return MISSING;
      const matches = decodeString(b, i, keyEnd) == path[p];
      i = skipSpaces(b, keyEnd);
      if (i >= b.length || b[i] != 0x3a) return MISSING;
      i = skipSpaces(b, i + 1);
      if (matches) {
        found = true;
        break;
      }
      i = skipValue(b, i);
      if (i < 0) return MISSING;
      i = skipSpaces(b, i);
      if (i < b.length && b[i] == 0x2c) i = skipSpaces(b, i + 1);
    }
    if (!found) return MISSING;
  }
  const end = skipValue(b, i);
  return end < 0 ? MISSING : decodeValue(b, i, end);
}

/** A JSON text the host sent (a filter's value), decoded. */
function parseExpected(text: string): JsonValue {
  const b = Uint8Array.wrap(String.UTF8.encode(text));
  const start = skipSpaces(b, 0);
  const end = skipValue(b, start);
  return end < 0 ? MISSING : decodeValue(b, start, end);
}

/** A filter node with its path split and its expected values decoded once per query. */
class CompiledFilter {
  path: string[] = [];
  expected: JsonValue[] = [];
  children: u32[] = [];
  matchAny: bool = false;
  isGroup: bool = false;
}

function compileFilter(node: Filter): CompiledFilter {
  const compiled = new CompiledFilter();
  if (node.kind == FilterKind.Eq) {
    const m = node.fieldMatch!;
    compiled.path = m.key.split(".");
    compiled.expected.push(parseExpected(m.value));
  } else if (node.kind == FilterKind.In) {
    const m = node.fieldMatches!;
    compiled.path = m.key.split(".");
    for (let i = 0; i < m.values.length; i++) compiled.expected.push(parseExpected(m.values[i]));
  } else {
    const g = node.filterGroup!;
    compiled.isGroup = true;
    compiled.matchAny = g.matchAny;
    compiled.children = g.children;
  }
  return compiled;
}

/** Matches items against a query's filter and orders them by its sort keys. */
class Evaluator {
  filters: CompiledFilter[] = [];
  sortPaths: string[][] = [];
  descending: bool[] = [];

  constructor(req: QueryRequest) {
    for (let i = 0; i < req.filter.length; i++) this.filters.push(compileFilter(req.filter[i]));
    for (let i = 0; i < req.sort.length; i++) {
      const key: SortKey = req.sort[i];
      this.sortPaths.push(key.key.split("."));
      this.descending.push(key.descending);
    }
  }

  /** Whether the filter (empty: everything) admits `value`. */
  matches(value: Uint8Array): bool {
    return this.filters.length == 0 || this.matchNode(0, value);
  }

  private matchNode(index: u32, value: Uint8Array): bool {
    // The host sends children after their parent, so this recursion ends; a bad index matches nothing.
    if (index >= <u32>this.filters.length) return false;
    const node = this.filters[index];
    if (node.isGroup) {
      for (let i = 0; i < node.children.length; i++) {
        const child = node.children[i];
        if (child <= index) return false;
        const matched = this.matchNode(child, value);
        if (matched == node.matchAny) return matched;
      }
      return !node.matchAny;
    }
    const found = valueAt(value, node.path);
    for (let i = 0; i < node.expected.length; i++) if (found.equals(node.expected[i])) return true;
    return false;
  }

  sortValues(value: Uint8Array): JsonValue[] {
    const out = new Array<JsonValue>(this.sortPaths.length);
    for (let i = 0; i < this.sortPaths.length; i++) out[i] = valueAt(value, this.sortPaths[i]);
    return out;
  }
}

/** A matched item with its sort values. */
class Row {
  constructor(public candidate: QueryCandidate, public sortValues: JsonValue[]) {}
}

/** Stable merge sort (AssemblyScript closures cannot capture the evaluator a comparator needs). */
class RowSorter {
  constructor(private descending: bool[]) {}

  compare(a: Row, b: Row): i32 {
    for (let i = 0; i < a.sortValues.length; i++) {
      let c = a.sortValues[i].compare(b.sortValues[i]);
      if (c != 0) return this.descending[i] ? -c : c;
    }
    return compareStrings(a.candidate.key, b.candidate.key);
  }

  sort(rows: Row[]): Row[] {
    if (rows.length < 2) return rows;
    let from = rows;
    let to = new Array<Row>(rows.length);
    for (let width = 1; width < rows.length; width <<= 1) {
      for (let lo = 0; lo < rows.length; lo += width << 1) {
        const mid = min(lo + width, rows.length);
        const hi = min(lo + (width << 1), rows.length);
        let i = lo;
        let j = mid;
        let k = lo;
        while (i < mid && j < hi) to[k++] = this.compare(from[j], from[i]) < 0 ? from[j++] : from[i++];
        while (i < mid) to[k++] = from[i++];
        while (j < hi) to[k++] = from[j++];
      }
      const swap = from;
      from = to;
      to = swap;
    }
    return from;
  }
}

function isDecimal(s: string): bool {
  if (s.length == 0 || s.length > 9) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Answers `req` over `candidates` (the store's live items whose keys start with
 * `req.keyPrefix`): the matching items, sorted, from the token's offset, at most `limit` of
 * them, with the next page's token when more remain. A token is the offset of its page.
 */
export function runQuery(req: QueryRequest, candidates: QueryCandidate[]): QueryResult {
  let offset = 0;
  const token = req.token;
  if (token !== null) {
    if (!isDecimal(token)) return QueryResult.failed(StateError.invalidArgument(`query token "${token}" is not one this store gave: pass the token of the previous page's response`));
    offset = I32.parseInt(token);
  }
  const evaluator = new Evaluator(req);
  let rows = new Array<Row>();
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i];
    if (evaluator.matches(candidate.value)) rows.push(new Row(candidate, evaluator.sortValues(candidate.value)));
  }
  rows = new RowSorter(evaluator.descending).sort(rows);
  const end = req.limit == 0 ? rows.length : <i32>min(<u64>rows.length, <u64>offset + <u64>req.limit);
  const results = new Array<QueryItem>();
  for (let i = offset; i < end; i++) {
    const c = rows[i].candidate;
    results.push(new QueryItem(c.key, c.value, c.etag));
  }
  const next: string | null = end < rows.length ? end.toString() : null;
  return QueryResult.ok(new QueryResponse(results, next, new Metadata()));
}
