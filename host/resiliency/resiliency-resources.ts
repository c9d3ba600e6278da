// The `Resiliency` documents of the resources folders, read at every scan (so an edit takes
// effect without a restart): each good one is in force; one that fails is left out and logged
// once per change, naming its file and every problem, while the others stay in force.
import type { Logger } from '../observability/logger.ts';
import { parseResiliency, type ResiliencyDocument } from './resiliency-document.ts';
import type { Resiliency } from './resiliency.ts';

export class ResiliencyResources {
  readonly #resiliency: Resiliency;
  readonly #logger: Logger;
  /** The refusals logged by the last scan, so an unchanged bad file is not logged at every scan. */
  #refused = new Set<string>();
  #applied = '';

  constructor(resiliency: Resiliency, logger: Logger) {
    this.#resiliency = resiliency;
    this.#logger = logger;
  }

  /** Applies the Resiliency documents among a scan's non-Component resources. */
  apply(others: readonly { kind: string; document: unknown; source: string }[]): void {
    const documents: ResiliencyDocument[] = [];
    const refused = new Set<string>();
    for (const { kind, document, source } of others) {
      if (kind !== 'Resiliency') continue;
      try {
        documents.push(parseResiliency(document, source));
      } catch (err) {
        const message = (err as Error).message;
        refused.add(message);
        if (!this.#refused.has(message)) this.#logger.error(`${message}; its policies are not in force`);
      }
    }
    this.#refused = refused;
    // Re-applied only when the documents changed: applying resets every breaker.
    const fingerprint = JSON.stringify(others.filter((o) => o.kind === 'Resiliency'));
    if (fingerprint === this.#applied) return;
    this.#applied = fingerprint;
    this.#resiliency.update(documents);
    const names = this.#resiliency.documents;
    if (names.length > 0 || documents.length > 0) this.#logger.info(`resiliency policies in force: ${names.length === 0 ? 'none (no document is scoped to this app)' : names.join(', ')}`);
  }
}
