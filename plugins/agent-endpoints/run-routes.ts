import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard, jwtVerifier } from '../../src/http/guard'
import { ApiError, badRequest } from '../../src/http/errors'
import { setBodyLimit } from '../../src/http/body'
import { beforeBody } from '../../src/http/routes'
import { enforceRate } from '../../src/http/rate-limit'
import { clientIp } from '../../src/http/client-ip'
import { sseResponse } from '../../src/http/sse'
import { requestLog } from '../../src/http/core'
import { isFinished, type OnDisconnect, type RunView } from '../../src/runs/types'
import { endpointsStore } from './store'
import { endpointGone, extractInput, requestFor, runSync, syncShape } from './execute'
import { authorizeAnyRead, authorizeCancel, authorizeRun, notFoundRun, runAccessToken } from './access'
import { ON_DISCONNECT, Queued, RunStatus, SyncResult } from './model'

/** Execution: POST /api/run/:slug (sync, SSE, async), GET /api/runs/:id, its SSE event stream, and cancel. */

export const RUN_BODY_LIMIT = 2 * 1024 * 1024
setBodyLimit('POST', '/api/run/:slug', RUN_BODY_LIMIT)

const READ_RPM = 600

/** What POST /api/run/:slug accepts (JSON, a form or plain text); see extractInput for how input is found. */
const RunBody = t.Union([
  t.Object({
    input: t.Optional(t.Unknown({ description: 'The input (a string, or any JSON value, sent as JSON text)' })),
    message: t.Optional(t.Unknown({ description: 'Used when input is absent' })),
    text: t.Optional(t.Unknown({ description: 'Used when input and message are absent' })),
    prompt: t.Optional(t.Unknown({ description: 'Used when input, message and text are absent' })),
    callback_url: t.Optional(t.Unknown({ description: 'async_mode: an http(s) URL (at most 2000 characters) POSTed the result when the run ends' })),
    on_disconnect: t.Optional(t.Unknown({ description: 'enable_streaming: "cancel" (default) or "continue" when the client goes away' })),
  }, { additionalProperties: true, description: 'Without input/message/text/prompt, the whole object (less callback_url) is the input' }),
  t.Array(t.Unknown()), t.String(), t.Number(), t.Boolean(),
], { description: 'The run input', examples: [{ input: 'Summarize: ...' }] })
const RUN_BODY_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'text/plain'] as const

async function callbackUrlOf(k: Kernel, body: unknown): Promise<string | null> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null
  const v = (body as Record<string, unknown>).callback_url
  if (v === undefined || v === null) return null
  if (typeof v !== 'string' || v.length > 2000 || !/^https?:\/\//i.test(v)) {
    throw badRequest('Callback_url must be an http(s) URL of at most 2000 characters', { callback_url: 'must be an http(s) URL' })
  }
  await k.outbound.check(v)
  return v
}

function onDisconnectOf(body: unknown): OnDisconnect | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined
  const v = (body as Record<string, unknown>).on_disconnect
  if (v === undefined || v === null) return undefined
  if (!(ON_DISCONNECT as readonly unknown[]).includes(v)) throw badRequest('On_disconnect must be "cancel" or "continue"', { on_disconnect: 'must be "cancel" or "continue"' })
  return v as OnDisconnect
}

function statusView(row: RunView) {
  const done = isFinished(row.status)
  return {
    run_id: row.id, ...(row.source === 'endpoint' ? { endpoint_id: row.source_id ?? '' } : { source: row.source, source_id: row.source_id }), status: row.status, created_at: row.created_at, started_at: row.started_at, finished_at: row.finished_at,
    ...(row.error !== null ? { error: row.error, code: row.error_code ?? 'error' } : {}),
    ...(done ? (({ run_id: _id, ...rest }) => rest)(syncShape(row)) : {}),
    ...(row.callback_url ? { callback: { url: row.callback_url, status: row.callback_status ?? 'pending', attempts: row.callback_attempts, last_status: row.callback_last_status } } : {}),
  }
}

export const runRoutes = (k: Kernel) => {
  // The caller is checked against the endpoint before its body is read: a wrong key is 401 whatever it sent.
  beforeBody(k, 'POST', '/api/run/:slug', async (request, params) => {
    const ep = endpointsStore(k.db).bySlug(params.slug)
    if (!ep || ep.status !== 'active') throw endpointGone()
    await authorizeRun(k, ep, request, jwtVerifier(k))
  })
  return new Elysia({ name: 'agent-endpoints.run', seed: k.seed, detail: { tags: ['Agent endpoints: execution'] } })
    .use(authGuard(k))
    .post('/api/run/:slug', async ({ params, body, request, server, set }) => {
      const ep = endpointsStore(k.db).bySlug(params.slug)
      if (!ep || ep.status !== 'active') throw endpointGone()
      const caller = await authorizeRun(k, ep, request, jwtVerifier(k))
      const ip = clientIp(request, server, k.config.trustProxy)
      enforceRate(k.limiter, set, caller.rateKey(ip), ep.rate_limit_rpm, 'Rate limited: too many runs of this endpoint')
      const input = extractInput(body)
      if (input === null) throw new ApiError(400, 'Input required: send {"input": "..."} (or message, text, prompt)', 'input_required')
      if (ep.async_mode) {
        const callbackUrl = await callbackUrlOf(k, body)
        const row = await k.runs.enqueue(requestFor(k, ep, input, { mode: 'async', caller: ip, callbackUrl, log: requestLog(k, request) }))
        const q = `?access_token=${runAccessToken(k, row.id)}`
        set.status = 202
        return { run_id: row.id, status: 'queued' as const, status_url: `/api/runs/${row.id}${q}`, events_url: `/api/runs/${row.id}/events${q}` }
      }
      // The SSE Response passes through as is (response schemas describe the JSON answers).
      if (ep.enable_streaming) {
        const req = requestFor(k, ep, input, { mode: 'stream', caller: ip, onDisconnect: onDisconnectOf(body), log: requestLog(k, request) })
        return (await k.runs.stream(req, { request })) as unknown as typeof SyncResult.static
      }
      return syncShape(await runSync(k, ep, input, 'sync', ip, request.signal, requestLog(k, request)))
    }, {
      params: t.Object({ slug: t.String({ minLength: 1, maxLength: 200 }) }),
      body: RunBody,
      type: [...RUN_BODY_TYPES],
      response: { 200: SyncResult, 202: Queued },
      detail: { 'x-errors': [402],
        summary: 'Run an agent endpoint',
        description: 'Auth: `Authorization: Bearer aek_...`, `X-API-Key: aek_...`, the owner\'s token (endpoints.run), or none for public endpoints. '
          + 'Input from `input`, `message`, `text` or `prompt`, else the whole body. Body max 2 MB. Sync JSON, SSE (enable_streaming; `on_disconnect`: `cancel` (default) stops the run when the client goes away, `continue` lets it finish, re-joinable at GET /api/runs/:id/events) or 202 + run id (async_mode; optional `callback_url`).',
        security: [{}, { bearer: [] }, { apiKey: [] }],
        'x-streams': 'when the endpoint has enable_streaming',
      },
    })
    .get('/api/runs/:id', async ({ params, query, request, cookie, set }) => {
      const row = k.runs.get(params.id)
      if (!row) throw notFoundRun()
      const ep = await authorizeAnyRead(k, row, request, jwtVerifier(k), cookie[k.sessions.sessionCookieName]?.value, query.access_token)
      enforceRate(k.limiter, set, ep ? `aep:${ep.id}:read` : `run:${row.owner_id}:read`, READ_RPM, 'Rate limited: too many status reads for this endpoint')
      return statusView(row)
    }, {
      params: t.Object({ id: t.String({ minLength: 1, maxLength: 100 }) }),
      query: t.Object({ access_token: t.Optional(t.String({ maxLength: 100 })) }),
      response: RunStatus,
      detail: { summary: 'Status of a run; the result in the sync shape once it finished', security: [{ bearer: [] }, { apiKey: [] }, {}] },
    })
    .get('/api/runs/:id/events', async ({ params, query, request, cookie }) => {
      const row = k.runs.get(params.id)
      if (!row) throw notFoundRun()
      await authorizeAnyRead(k, row, request, jwtVerifier(k), cookie[k.sessions.sessionCookieName]?.value, query.access_token)
      const given = request.headers.get('last-event-id') ?? query.last_event_id
      let after = 0
      if (given !== undefined && given !== null && given !== '') {
        if (!/^\d{1,9}$/.test(given)) throw badRequest('Last-Event-ID must be a non-negative integer (an event id from this stream)', { 'last-event-id': 'must be a non-negative integer' })
        after = Number(given)
      }
      if (isFinished(row.status)) {
        const last = k.runs.lastSeq(row.id)
        // Finished, and the client has its last event: 204 tells an EventSource to stop reconnecting.
        if (given && after === last) return new Response(null, { status: 204 })
        // Finished before the client's last id (its unrecorded tail was lost in a crash): send the final event again.
        if (last && after > last) after = last - 1
      }
      const events = (async function* () { for await (const e of k.runs.events(row.id, after, request.signal)) yield e.data })()
      return sseResponse(k, events, { signal: request.signal, firstId: after + 1 })
    }, {
      params: t.Object({ id: t.String({ minLength: 1, maxLength: 100 }) }),
      query: t.Object({ access_token: t.Optional(t.String({ maxLength: 100 })), last_event_id: t.Optional(t.String({ maxLength: 12 })) }),
      response: {
        200: t.String({ description: 'text/event-stream (DESIGN §6): id (the event seq, for Last-Event-ID), event and data lines; data repeats the event name in `type`' }),
      },
      detail: {
        summary: 'The run\'s events as SSE: from the start (or after Last-Event-ID), then live until it ends; 204 when the run finished and Last-Event-ID is its last event (an EventSource then stops reconnecting)',
        security: [{ bearer: [] }, { apiKey: [] }, {}],
      },
    })
    .post('/api/runs/:id/cancel', async ({ params, request, cookie }) => {
      const sid = cookie[k.sessions.sessionCookieName]?.value
      if (!request.headers.get('authorization') && !request.headers.get('x-api-key') && !sid) {
        throw new ApiError(401, 'Authentication required: send the endpoint\'s API key or your token', 'unauthorized')
      }
      const row = k.runs.get(params.id)
      if (!row) throw notFoundRun()
      await authorizeCancel(k, row, request, jwtVerifier(k), sid)
      return statusView((await k.runs.cancel(row.id)) ?? row)
    }, {
      params: t.Object({ id: t.String({ minLength: 1, maxLength: 100 }) }),
      response: RunStatus,
      detail: {
        summary: 'Cancel a run: a queued run ends at once, a running one stops its upstream LLM request; both end `cancelled`. A finished run is answered as it is.',
        security: [{ bearer: [] }, { apiKey: [] }],
      },
    })
}
