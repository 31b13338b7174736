import { ApiError } from '../../src/http/errors'

/**
 * OpenAI's error body (`{ error: { message, type, param, code } }`) for the two OpenAI-compatible routes,
 * so the official SDKs raise their typed errors (AuthenticationError, NotFoundError, RateLimitError...).
 */
export interface OpenAiError { error: { message: string; type: string; param: string | null; code: string | null } }

function typeFor(status: number): string {
  if (status === 429) return 'requests'
  if (status === 401) return 'invalid_request_error'
  if (status === 402) return 'insufficient_quota'
  if (status === 403) return 'permission_error'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}

/** Codes OpenAI clients know, where ours has an OpenAI equivalent. */
function codeFor(err: ApiError): string {
  if (err.status === 401) return 'invalid_api_key'
  if (err.status === 429) return 'rate_limit_exceeded'
  return err.code
}

export const toOpenAiError = (err: ApiError): OpenAiError => ({
  error: { message: err.message, type: typeFor(err.status), param: err.details ? Object.keys(err.details)[0] ?? null : null, code: codeFor(err) },
})

export const asApiError = (err: unknown): ApiError =>
  err instanceof ApiError ? err : new ApiError(500, `Internal error: ${(err as Error)?.message ?? String(err)}`, 'internal_error')

/** A complete OpenAI-shaped error response (with our rate-limit headers, Retry-After on 429s). */
export function openAiErrorResponse(err: unknown, headers: Record<string, string> = {}): Response {
  const api = asApiError(err)
  return new Response(JSON.stringify(toOpenAiError(api)), {
    status: api.status,
    headers: { 'content-type': 'application/json', ...headers, ...api.headers },
  })
}
