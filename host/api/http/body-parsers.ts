// Body parsers that ignore Content-Type, as daprd does: state routes read JSON whatever the
// header says (SDKs send text/plain or nothing at all), the metadata route reads raw text.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { malformedBody } from './error-reply.ts';

type Done = (err: Error | null, body?: unknown) => void;

function parseJson(_request: FastifyRequest, body: string | Buffer, done: Done): void {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text === '') {
    done(null, undefined);
    return;
  }
  try {
    done(null, JSON.parse(text));
  } catch (err) {
    done(malformedBody((err as Error).message));
  }
}

function keepText(_request: FastifyRequest, body: string | Buffer, done: Done): void {
  done(null, typeof body === 'string' ? body : body.toString('utf8'));
}

/** Every body in this scope is parsed as JSON; an empty body leaves `request.body` undefined. */
export function useJsonBodies(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string' }, parseJson);
}

/** Every body in this scope is kept as text. */
export function useTextBodies(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string' }, keepText);
}
