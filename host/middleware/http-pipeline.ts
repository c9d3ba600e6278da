// The Dapr HTTP API's middleware pipeline: the handlers a Configuration's
// `spec.httpPipeline.handlers` lists, in order, each the name of a middleware Component in the
// resources folders. Components come with every scan of the folders, so an edit to one takes
// effect without a restart (a rate limit whose settings did not change keeps its buckets). A
// handler naming no such Component is logged, once per change, and left out until it appears.
import type { Logger } from '../observability/logger.ts';
import { clientAddress } from './client-ip.ts';
import type { MiddlewareSettings } from './middleware-types.ts';
import { RateLimiter } from './rate-limiter.ts';

/** A middleware Component of a scan. */
export interface MiddlewareComponent {
  name: string;
  /** `spec.version`, `v1` when absent. */
  version: string;
  settings: MiddlewareSettings;
  source: string;
}

export interface PipelineHandlerSpec {
  name: string;
  type: string;
}

/** What a request shows the pipeline. */
export interface PipelineRequest {
  remoteAddress: string | undefined;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The path as sent, without the query. */
  path: string;
}

/** tollbooth's answer past the limit, as components-contrib's middleware sends it. */
export const RATE_LIMITED = { status: 429, contentType: 'text/plain; charset=utf-8', body: 'You have reached maximum request limit.' } as const;

interface Stage {
  name: string;
  limiter: RateLimiter;
}

export class HttpPipeline {
  readonly #handlers: readonly PipelineHandlerSpec[];
  readonly #source: string;
  readonly #logger: Logger;
  #stages: Stage[] = [];
  #headers: Readonly<Record<string, string>> | undefined;
  #problems = '';

  constructor(handlers: readonly PipelineHandlerSpec[], source: string, logger: Logger) {
    this.#handlers = handlers;
    this.#source = source;
    this.#logger = logger;
  }

  /** The middleware Components of a scan (scoped to this app): the handlers are resolved against them. */
  apply(components: readonly MiddlewareComponent[]): void {
    const problems: string[] = [];
    const stages: Stage[] = [];
    for (const [index, handler] of this.#handlers.entries()) {
      const component = components.find((c) => c.name === handler.name);
      const field = `spec.httpPipeline.handlers[${index}]`;
      if (component === undefined) {
        problems.push(`${this.#source}: ${field} names middleware "${handler.name}", which no Component in the resources folders defines; it is left out of the pipeline until one does`);
      } else if (component.settings.type !== handler.type) {
        problems.push(`${this.#source}: ${field} names "${handler.name}" as ${handler.type}, but ${component.source} defines it as ${component.settings.type}; it is left out of the pipeline`);
      } else {
        const kept = this.#stages.find((s) => s.name === handler.name && s.limiter.maxRequestsPerSecond === component.settings.maxRequestsPerSecond);
        stages.push(kept ?? { name: handler.name, limiter: new RateLimiter(component.settings.maxRequestsPerSecond) });
      }
    }
    this.#stages = stages;
    const first = stages[0];
    this.#headers = first && { 'x-rate-limit-limit': first.limiter.maxRequestsPerSecond.toFixed(2), 'x-rate-limit-duration': '1' };
    const text = problems.join('\n');
    if (text !== this.#problems) for (const problem of problems) this.#logger.error(problem);
    this.#problems = text;
  }

  /** The refusal to send for this request, or undefined to let it through. */
  refusal(request: PipelineRequest): typeof RATE_LIMITED | undefined {
    if (this.#stages.length === 0) return undefined;
    const client = clientAddress(request.remoteAddress, request.headers);
    for (const stage of this.#stages) {
      if (!stage.limiter.allow(client, request.path)) return RATE_LIMITED;
    }
    return undefined;
  }

  /** The headers tollbooth sets on every answer it lets through or refuses (the first rate limit's); undefined while no stage is in force. */
  get limitHeaders(): Readonly<Record<string, string>> | undefined {
    return this.#headers;
  }
}
