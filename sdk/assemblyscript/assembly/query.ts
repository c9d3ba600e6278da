// The optional query side of a state store (WIT interface `query`, ABI 0.1.2): Dapr's state
// query API. The host has already parsed and checked the app's query; the generated glue
// (./generated/query-exports.ts) calls the registered implementation. A store that keeps its
// items at hand can answer with `runQuery` (./json-query.ts), which filters, sorts and pages
// JSON values the way the host documents.
import { QueryRequest, QueryResponse } from "./generated/query";
import { Registration } from "./registration";
import { StateError } from "./types";

export { FieldMatch, FieldMatches, Filter, FilterGroup, FilterKind, QueryItem, QueryRequest, QueryResponse, SortKey } from "./generated/query";

const NO_RESPONSE = new QueryResponse();

/** What `query` answers: a page of results, or an error. */
export class QueryResult {
  constructor(public value: QueryResponse, public error: StateError | null) {}

  static ok(response: QueryResponse): QueryResult {
    return new QueryResult(response, null);
  }

  static failed(error: StateError): QueryResult {
    return new QueryResult(NO_RESPONSE, error);
  }
}

/** What the host calls on a store that answers queries. */
export interface Queryable {
  query(req: QueryRequest): QueryResult;
}

const registration = new Registration<Queryable>(
  "no query implementation registered: call registerQuery(store) at the top level of the entry file, beside registerStateStore",
);

/** Makes `impl` answer the component's `query` export (re-export "./query-exports" from the entry file too). */
export function registerQuery(impl: Queryable): void {
  registration.set(impl);
}

/** The registered implementation, which the generated exports call. */
export function queryImplementation(): Queryable {
  return registration.get();
}
