// The `Resiliency` documents of the resources folders, read at every scan (so an edit takes
// effect without a restart): each good one is in force; one that fails is left out and logged
// once per change, naming its file and every problem, while the others stay in force.
import type { Logger } from '../observability/logger.ts';
import { parseResiliency, type ResiliencyDocument } from './resiliency-document.ts';
import type { Resiliency } from './resiliency.ts';

/**
 * Resiliency documents in force at once: each is read (validated, its breakers' CEL compiled)
 * on the event loop when the documents change, so their number is bounded as their size is.
 * Past it, in scan order, the rest are not in force, and one line says so.
 */
export const MAX_RESILIENCY_DOCUMENTS = 16;

export class ResiliencyResources {
  readonly #resiliency: Resiliency;
  readonly #logger: Logger;
  /** The refusals logged by the last scan, so an unchanged bad file is not logged at every scan. */
  #refused = new Set<string>();
  /** Why documents in force were left out, as the last read of them said. */
  #unread: string[] = [];
  #applied = '';

  constructor(resiliency: Resiliency, logger: Logger) {
    this.#resiliency = resiliency;
    this.#logger = logger;
  }

  /** Applies the Resiliency documents among a scan's non-Component resources. */
  apply(others: readonly { kind: string; document: unknown; source: string }[]): void {
    const all = others.filter((o) => o.kind === 'Resiliency');
    const read = all.slice(0, MAX_RESILIENCY_DOCUMENTS);
    // Read again only when the documents changed: applying resets every breaker.
    const fingerprint = JSON.stringify(read);
    if (fingerprint !== this.#applied) {
      this.#applied = fingerprint;
      const documents: ResiliencyDocument[] = [];
      this.#unread = [];
      for (const { document, source } of read) {
        try {
          documents.push(parseResiliency(document, source));
        } catch (err) {
          this.#unread.push(`${(err as Error).message}; its policies are not in force`);
        }
      }
      this.#resiliency.update(documents);
      const names = this.#resiliency.documents;
      if (names.length > 0 || documents.length > 0) this.#logger.info(`resiliency policies in force: ${names.length === 0 ? 'none (no document is scoped to this app)' : names.join(', ')}`);
    }
    const refused = new Set(this.#unread);
    if (all.length > read.length) {
      refused.add(`${all[read.length]!.source}: ${all.length} Resiliency documents, over the ${MAX_RESILIENCY_DOCUMENTS} in force at once; this one and the ${all.length - read.length - 1} after it are not`);
    }
    for (const message of refused) if (!this.#refused.has(message)) this.#logger.error(message);
    this.#refused = refused;
  }
}
