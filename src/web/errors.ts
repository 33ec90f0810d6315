/**
 * One catalogue of expected HTTP errors: a stable code, a status and a message key in every language.
 * Unknown errors show a generic page with the request id and are logged with it.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MessageKey } from './i18n/i18n.ts';
import { pageContext } from './context.ts';
import { ErrorPage } from './error.views.tsx';
import { sendPage } from './render.ts';

export const ERRORS = {
  BAD_REQUEST: { status: 400, key: 'error.badRequest' },
  /** A form body or query with broken percent-encoding, invalid UTF-8 or a control character (S9). */
  BAD_ENCODING: { status: 400, key: 'error.badEncoding' },
  /** /admin from an address outside ADMIN_ALLOW_CIDRS (S12). */
  ADMIN_ADDRESS: { status: 403, key: 'error.adminAddress' },
  CSRF: { status: 403, key: 'error.csrf' },
  NOT_FOUND: { status: 404, key: 'error.notFound' },
  METHOD_NOT_ALLOWED: { status: 405, key: 'error.methodNotAllowed' },
  TOO_LARGE: { status: 413, key: 'error.tooLarge' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, key: 'error.unsupportedMediaType' },
  RATE_LIMITED: { status: 429, key: 'error.rateLimited' },
  INTERNAL: { status: 500, key: 'error.internal' },
} as const satisfies Record<string, { status: number; key: MessageKey }>;

export type ErrorCode = keyof typeof ERRORS;

export class HttpError extends Error {
  constructor(
    public code: ErrorCode,
    message?: string,
  ) {
    super(message ?? code);
  }
}

/** Maps Fastify's and its plugins' error codes to ours. */
const FRAMEWORK: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_VALIDATION: 'BAD_REQUEST',
  FST_CSRF_INVALID_TOKEN: 'CSRF',
  FST_CSRF_MISSING_SECRET: 'CSRF',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
};

export function codeOf(err: FastifyError | HttpError): ErrorCode {
  if (err instanceof HttpError) return err.code;
  if (err.code && FRAMEWORK[err.code]) return FRAMEWORK[err.code]!;
  if (err.statusCode === 429) return 'RATE_LIMITED';
  if (err.statusCode === 413) return 'TOO_LARGE';
  if (err.statusCode === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (err.statusCode === 404) return 'NOT_FOUND';
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return 'BAD_REQUEST';
  return 'INTERNAL';
}

export function sendError(request: FastifyRequest, reply: FastifyReply, code: ErrorCode): FastifyReply {
  const { status, key } = ERRORS[code];
  const ctx = pageContext(request, reply);
  reply.header('cache-control', 'no-store');
  return sendPage(reply, ErrorPage({ ctx, message: ctx.t(key, { requestId: request.id }) }), status);
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const code = codeOf(err);
    if (code === 'INTERNAL') request.log.error({ err, reqId: request.id }, 'unhandled error');
    else request.log.info({ code, reason: err.code ?? err.message }, 'request refused');
    return sendError(request, reply, code);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, 'NOT_FOUND'));
}
