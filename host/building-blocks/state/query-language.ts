// Dapr's state query language (`filter`, `sort`, `page`), parsed and checked by the host so a
// store receives it typed (WIT `query-request`) and every store refuses a bad query alike:
//
//   {"filter": {"AND": [{"EQ": {"person.org": "A"}}, {"IN": {"state": ["CA", "WA"]}}]},
//    "sort": [{"key": "person.id", "order": "DESC"}], "page": {"limit": 10, "token": "20"}}
//
// Written by hand rather than with a JSON Schema: the filter is a recursive tree that must be
// flattened for the ABI (WIT has no recursive types), and each mistake deserves a message that
// names where it is (`filter.AND[1].EQ`). The tree is bounded (MAX_FILTER_NODES,
// MAX_FILTER_DEPTH), so checking it is bounded work whatever the body holds.
import type { Filter, SortKey } from '../../../abi/ts/state.ts';
import { TesseraError } from '../../errors.ts';

/** Most nodes a filter may have. */
export const MAX_FILTER_NODES = 256;
/** Deepest a filter may nest. */
export const MAX_FILTER_DEPTH = 16;

export interface ParsedQuery {
  filter: Filter[];
  sort: SortKey[];
  limit: number;
  token: string | undefined;
}

/** daprd's error for a query it cannot parse: ERR_STATE_QUERY (HTTP 500, its legacy status). */
export function queryFailed(storeName: string, detail: string): TesseraError {
  return new TesseraError('ERR_STATE_QUERY', `state store ${storeName} query failed: ${detail}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The one `{ key: value }` pair of an EQ or IN. */
function singleField(node: unknown, where: string): [string, unknown] {
  if (!isObject(node)) throw new Error(`${where} must be an object naming one key, e.g. {"state": "CA"}`);
  const entries = Object.entries(node);
  if (entries.length !== 1) throw new Error(`${where} must name exactly one key (it names ${entries.length})`);
  const [key, value] = entries[0]!;
  if (key === '') throw new Error(`${where} names an empty key`);
  return [key, value];
}

class FilterFlattener {
  readonly nodes: Filter[] = [];

  /** Appends `node` and its subtree (children after their parent); answers its index. */
  add(node: unknown, where: string, depth: number): number {
    if (depth > MAX_FILTER_DEPTH) throw new Error(`${where} nests deeper than ${MAX_FILTER_DEPTH} levels`);
    if (this.nodes.length >= MAX_FILTER_NODES) throw new Error(`the filter has more than ${MAX_FILTER_NODES} operations`);
    if (!isObject(node)) throw new Error(`${where} must be an object with one operator: EQ, IN, AND or OR`);
    const ops = Object.keys(node);
    if (ops.length !== 1) throw new Error(`${where} must have exactly one operator (EQ, IN, AND or OR); it has ${ops.length === 0 ? 'none' : ops.join(', ')}`);
    const op = ops[0]!;
    const body = node[op];
    const at = `${where}.${op}`;
    const index = this.nodes.length;
    switch (op) {
      case 'EQ': {
        const [key, value] = singleField(body, at);
        this.nodes.push({ tag: 'eq', val: { key, value: jsonText(value, `${at}.${key}`) } });
        return index;
      }
      case 'IN': {
        const [key, values] = singleField(body, at);
        if (!Array.isArray(values) || values.length === 0) throw new Error(`${at}.${key} must be a non-empty array of values`);
        this.nodes.push({ tag: 'in', val: { key, values: values.map((v, i) => jsonText(v, `${at}.${key}[${i}]`)) } });
        return index;
      }
      case 'AND':
      case 'OR': {
        if (!Array.isArray(body) || body.length === 0) throw new Error(`${at} must be a non-empty array of filters`);
        const group = { matchAny: op === 'OR', children: [] as number[] };
        this.nodes.push({ tag: 'group', val: group });
        body.forEach((child, i) => group.children.push(this.add(child, `${at}[${i}]`, depth + 1)));
        return index;
      }
      default:
        throw new Error(`${where} uses operator "${op}", which is not supported: use EQ, IN, AND or OR`);
    }
  }
}

function jsonText(value: unknown, where: string): string {
  if (value === undefined) throw new Error(`${where} has no value`);
  return JSON.stringify(value);
}

function parseSort(sort: unknown): SortKey[] {
  if (sort === undefined || sort === null) return [];
  if (!Array.isArray(sort)) throw new Error('"sort" must be an array of {"key", "order"}');
  return sort.map((s: unknown, i): SortKey => {
    if (!isObject(s) || typeof s.key !== 'string' || s.key === '') throw new Error(`sort[${i}] must have a non-empty string "key"`);
    const order = s.order ?? 'ASC';
    if (order !== 'ASC' && order !== 'DESC') throw new Error(`sort[${i}].order is ${JSON.stringify(order)}: use "ASC" or "DESC"`);
    return { key: s.key, descending: order === 'DESC' };
  });
}

function parsePage(page: unknown): { limit: number; token: string | undefined } {
  if (page === undefined || page === null) return { limit: 0, token: undefined };
  if (!isObject(page)) throw new Error('"page" must be an object with "limit" and "token"');
  const limit = page.limit ?? 0;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > 0xffff_ffff) throw new Error(`page.limit must be a whole number from 0 to 4294967295 (it is ${JSON.stringify(limit)})`);
  const token = page.token ?? '';
  if (typeof token !== 'string') throw new Error('page.token must be a string: the token of the previous page');
  return { limit, token: token === '' ? undefined : token };
}

/** The query in `body` (the request's raw bytes), or ERR_STATE_QUERY naming what is wrong. */
export function parseQuery(storeName: string, body: string): ParsedQuery {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw queryFailed(storeName, `failed to parse JSON query body: ${(err as Error).message}`);
  }
  try {
    if (!isObject(json)) throw new Error('the query must be a JSON object with "filter", "sort" and "page"');
    const flattener = new FilterFlattener();
    const filter = json.filter;
    if (filter !== undefined && filter !== null && !(isObject(filter) && Object.keys(filter).length === 0)) flattener.add(filter, 'filter', 1);
    return { filter: flattener.nodes, sort: parseSort(json.sort), ...parsePage(json.page) };
  } catch (err) {
    if (err instanceof TesseraError) throw err;
    throw queryFailed(storeName, `failed to parse JSON query body: ${(err as Error).message}`);
  }
}
