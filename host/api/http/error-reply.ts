// The one place an error becomes an HTTP answer: the status of its code (http-status.ts)
// with Dapr's `{ "errorCode", "message", "details" }` body (details: the ErrorInfo of
// ../error-info.ts), and fastify's own errors folded into Dapr's codes.
import { isTesseraError, TesseraError } from '../../errors.ts';
import { errorBody } from '../error-info.ts';
import { httpStatusOf } from './http-status.ts';

export interface ErrorReply {
  status: number;
  contentType: string;
  body: string;
}

interface FastifyError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/** The error as a TesseraError with its HTTP status; fastify's 4xx errors keep their status. */
function classify(err: unknown, maxBodyBytes: number): { error: TesseraError; status: number } {
  if (isTesseraError(err)) return { error: err, status: httpStatusOf(err) };
  const { code, statusCode, message } = (typeof err === 'object' && err !== null ? err : {}) as FastifyError;
  const text = typeof message === 'string' ? message : String(err);
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const error = new TesseraError('ERR_BODY_TOO_LARGE', `request body is larger than the limit of ${maxBodyBytes} bytes`);
    return { error, status: httpStatusOf(error) };
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { error: new TesseraError('ERR_MALFORMED_REQUEST', text), status: statusCode };
  }
  const error = new TesseraError('ERR_INTERNAL', text, { cause: err });
  return { error, status: httpStatusOf(error) };
}

export function errorReply(err: unknown, maxBodyBytes: number): ErrorReply {
  const { error, status } = classify(err, maxBodyBytes);
  // daprd refuses a missing or wrong API token with Go's http.Error: plain text, not JSON.
  if (error.code === 'ERR_UNAUTHORIZED') {
    return { status, contentType: 'text/plain; charset=utf-8', body: `${error.message}\n` };
  }
  return { status, contentType: 'application/json', body: JSON.stringify(errorBody(error)) };
}

/** The error for a body that is not the JSON a route expects. */
export function malformedBody(problems: readonly string[] | string): TesseraError {
  const detail = typeof problems === 'string' ? problems : problems.join('; ');
  return new TesseraError('ERR_MALFORMED_REQUEST', `failed deserializing HTTP body: ${detail}`);
}
