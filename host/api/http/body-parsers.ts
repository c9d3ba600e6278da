// Body parsers that ignore Content-Type, as daprd does: state routes read JSON whatever the
// header says (SDKs send text/plain or nothing at all), the metadata route reads raw text,
// the publish routes keep the bytes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { malformedBody } from './error-reply.ts';

type Done = (err: Error | null, body?: unknown) => void;

/**
 * The types clients send most. fastify caches the parser it finds for a type, but not its
 * catch-all: a type that only `*` matches is parsed again on every request (a measured 3–4 µs
 * of a 50 µs state save), so these are registered by name as well.
 */
const COMMON_TYPES = ['application/json', 'text/plain', 'application/octet-stream', 'application/cloudevents+json'];

/** Clears the scope's parsers, then registers one for any type (`*`) and for each common type. */
function forAnyType(scope: FastifyInstance, register: (type: string) => void): void {
  scope.removeAllContentTypeParsers();
  for (const type of ['*', ...COMMON_TYPES]) register(type);
}

function parseJson(_request: FastifyRequest, text: string, done: Done): void {
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

function keepBytes(_request: FastifyRequest, bytes: Buffer, done: Done): void {
  done(null, bytes);
}

function keepText(_request: FastifyRequest, text: string, done: Done): void {
  done(null, text);
}

/** Every body in this scope is parsed as JSON; an empty body leaves `request.body` undefined. */
export function useJsonBodies(scope: FastifyInstance): void {
  forAnyType(scope, (type) => scope.addContentTypeParser(type, { parseAs: 'string' }, parseJson));
}

/** Every body in this scope is kept as text. */
export function useTextBodies(scope: FastifyInstance): void {
  forAnyType(scope, (type) => scope.addContentTypeParser(type, { parseAs: 'string' }, keepText));
}

/** Every body in this scope is kept as the bytes that came. */
export function useByteBodies(scope: FastifyInstance): void {
  forAnyType(scope, (type) => scope.addContentTypeParser(type, { parseAs: 'buffer' }, keepBytes));
}
