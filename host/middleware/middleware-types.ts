// The middleware Tessera has: host built-ins, not WebAssembly components. A Dapr `Component`
// whose `spec.type` starts with `middleware.` configures one of them, and a Configuration's
// `spec.httpPipeline` names it to put it in front of the Dapr HTTP API. Each type checks its
// metadata when its YAML is read, so a bad value fails that file, naming the component.
import { TesseraError } from '../errors.ts';

/** `middleware.http.ratelimit`: Dapr's rate limit, per client IP and path (components-contrib's tollbooth). */
export interface RateLimitSettings {
  type: 'middleware.http.ratelimit';
  maxRequestsPerSecond: number;
}

export type MiddlewareSettings = RateLimitSettings;

/** components-contrib's default when `maxRequestsPerSecond` is not given. */
const DEFAULT_MAX_REQUESTS_PER_SECOND = 100;

/** The HTTP middleware types, by the `spec.type` that names them. */
const HTTP_MIDDLEWARE: Record<string, (metadata: ReadonlyMap<string, string>, fail: (message: string) => never) => MiddlewareSettings> = {
  'middleware.http.ratelimit': (metadata, fail) => {
    const text = metadata.get('maxRequestsPerSecond');
    if (text === undefined) return { type: 'middleware.http.ratelimit', maxRequestsPerSecond: DEFAULT_MAX_REQUESTS_PER_SECOND };
    const rate = text.trim() === '' ? NaN : Number(text);
    if (!Number.isFinite(rate) || rate <= 0) fail(`metadata "maxRequestsPerSecond" must be a number above 0, got ${JSON.stringify(text.slice(0, 50))}`);
    return { type: 'middleware.http.ratelimit', maxRequestsPerSecond: rate };
  },
};

export const HTTP_MIDDLEWARE_TYPES: readonly string[] = Object.keys(HTTP_MIDDLEWARE);

/** Whether a Component of this `spec.type` is a host middleware (no `.wasm` is looked for). */
export const isMiddlewareType = (type: string): boolean => type.startsWith('middleware.');

/** The settings of middleware component `name`; `source` is its file, named in every error. */
export function middlewareSettings(type: string, metadata: ReadonlyMap<string, string>, name: string, source: string): MiddlewareSettings {
  const fail = (message: string): never => {
    throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: component "${name}": ${message}`);
  };
  const parse = HTTP_MIDDLEWARE[type];
  if (parse === undefined) return fail(`spec.type "${type.slice(0, 100)}" is not a middleware Tessera has (it has: ${HTTP_MIDDLEWARE_TYPES.join(', ')})`);
  return parse(metadata, fail);
}
