/**
 * The one error type services throw. onError turns it into `{ error, code, details? }` with its status.
 * Messages are safe for clients; causes stay in the logs.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string = defaultCode(status),
    readonly details?: Record<string, string>,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
  }

  toBody() {
    return this.details ? { error: this.message, code: this.code, details: this.details } : { error: this.message, code: this.code }
  }
}

function defaultCode(status: number): string {
  switch (status) {
    case 400: return 'invalid_request'
    case 401: return 'unauthorized'
    case 402: return 'payment_required'
    case 403: return 'forbidden'
    case 404: return 'not_found'
    case 409: return 'conflict'
    case 413: return 'body_too_large'
    case 415: return 'unsupported_media_type'
    case 422: return 'unprocessable'
    case 429: return 'rate_limited'
    case 502: return 'upstream_failed'
    case 504: return 'upstream_timeout'
    default: return status >= 500 ? 'internal_error' : 'error'
  }
}

export const badRequest = (message: string, details?: Record<string, string>) => new ApiError(400, message, 'invalid_request', details)
export const unauthorized = (message = 'Authentication required') => new ApiError(401, message)
export const forbidden = (message: string) => new ApiError(403, message)
export const notFound = (what = 'Resource') => new ApiError(404, `${what} not found`)
export const conflict = (message: string) => new ApiError(409, message)

/** JSON error response outside Elysia's handlers (raw routes, fetch fallbacks). */
export const errorResponse = (err: ApiError) =>
  new Response(JSON.stringify(err.toBody()), { status: err.status, headers: { 'content-type': 'application/json', ...err.headers } })
