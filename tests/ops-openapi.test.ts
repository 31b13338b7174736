// Issue 11 item 18: the OpenAPI document is valid (swagger-parser, redocly lint with 0 errors) and true:
// real answers match their declared schemas, declared body types are the ones the server takes, every
// operation declares its errors and the rate-limit headers.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SwaggerParser from '@apidevtools/swagger-parser'
import Ajv2020 from 'ajv/dist/2020'
import addFormats from 'ajv-formats'
import { epEnv, createEndpoint, userWithWorkspace, type EpEnv, type Who } from './endpoints-kit'

setDefaultTimeout(60_000)
const ROOT = join(import.meta.dir, '..')

let env: EpEnv
let admin: Who
let doc: any
const dir = mkdtempSync(join(tmpdir(), 'agentbase-openapi-'))
beforeAll(async () => {
  env = await epEnv()
  admin = await userWithWorkspace(env.t) // the first user: admin
  doc = (await env.t.req('GET', '/swagger/json')).body
  writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc))
})
afterAll(() => { env.close(); rmSync(dir, { recursive: true, force: true }) })

const operations = () => Object.entries<any>(doc.paths).flatMap(([path, item]) => Object.entries<any>(item).map(([method, op]) => ({ path, method, op })))
const resolve = (x: any) => (x?.$ref ? x.$ref.slice(2).split('/').reduce((o: any, k: string) => o[k], doc) : x)

describe('valid', () => {
  test('swagger-parser validates it (OpenAPI 3.1)', async () => {
    const api: any = await SwaggerParser.validate(structuredClone(doc))
    expect(api.openapi).toBe('3.1.0')
    expect(Object.keys(api.paths).length).toBeGreaterThan(50)
  })

  test('redocly lint: 0 errors', async () => {
    const p = Bun.spawn([join(ROOT, 'node_modules', '.bin', 'redocly'), 'lint', join(dir, 'openapi.json'), '--format=json'], { cwd: dir, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } })
    const [out] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
    const report = JSON.parse(out.slice(out.indexOf('{')))
    const errors = report.problems.filter((x: any) => x.severity === 'error').map((x: any) => `${x.ruleId}: ${x.message} at ${x.location?.[0]?.pointer}`)
    expect(errors).toEqual([])
    expect(report.totals.errors).toBe(0)
  })
})

describe('true to the server', () => {
  test('every operation declares its 4xx and 500 errors and the X-Request-Id and rate-limit headers on every answer', () => {
    const problems: string[] = []
    for (const { path, method, op } of operations()) {
      const codes = Object.keys(op.responses)
      if (!codes.includes('429') || !codes.includes('500')) problems.push(`${method} ${path}: no 429/500`)
      if (op.requestBody && !['400', '413', '415'].every((c) => codes.includes(c))) problems.push(`${method} ${path}: body without 400/413/415`)
      if (op.security?.length && op.security.every((s: any) => Object.keys(s).length) && !['401', '403'].every((c) => codes.includes(c))) problems.push(`${method} ${path}: auth without 401/403`)
      for (const [code, r] of Object.entries<any>(op.responses)) {
        const headers = resolve(r).headers ?? {}
        for (const h of ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']) if (!headers[h]) problems.push(`${method} ${path} ${code}: no ${h}`)
        if (code === '429' && !headers['Retry-After']) problems.push(`${method} ${path}: 429 without Retry-After`)
      }
    }
    expect(problems).toEqual([])
    expect(operations().length).toBeGreaterThan(90)
    // Refusals of a route's own rules are documented too: spending caps (402) and conflicts (409).
    const codesOf = (m: string, p: string) => Object.keys(operations().find((o) => o.method === m && o.path === p)!.op.responses)
    expect(codesOf('post', '/api/agents/{agent_id}/execute')).toEqual(expect.arrayContaining(['402', '409']))
    expect(codesOf('post', '/api/chat/conversations/{id}/messages')).toEqual(expect.arrayContaining(['402', '409']))
    expect(codesOf('post', '/api/run/{slug}')).toContain('402')
    expect(codesOf('post', '/api/workflows/{id}/execute')).toContain('409')
  })

  test('POST /api/run/{slug} documents its body (JSON, form, text); no route advertises multipart', () => {
    const body = doc.paths['/api/run/{slug}'].post.requestBody
    expect(Object.keys(body.content).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded', 'text/plain'])
    expect(JSON.stringify(doc)).not.toContain('multipart/form-data')
    expect(doc.paths['/api/workspaces'].post.requestBody.content).toContainAllKeys(['application/json'])
  })

  test('numbers and booleans are typed as such (query parameters too)', () => {
    const limit = doc.paths['/api/wallet'].get.parameters.find((p: any) => p.name === 'limit')
    expect(limit.schema.type).toBe('integer')
    expect(JSON.stringify(doc)).not.toMatch(/"format":"(numeric|integer|boolean)"/)
  })

  test('each documented body media type is accepted (never 415), an undocumented one refused with 415', async () => {
    const problems: string[] = []
    for (const { path, method, op } of operations()) {
      if (!op.requestBody) continue
      const url = path.replace(/\{[^}]+\}/g, 'zz_missing')
      for (const media of [...Object.keys(op.requestBody.content), 'multipart/form-data']) {
        // Malformed on purpose: nothing is created; only the media-type decision is observed.
        const raw = media === 'application/json' ? '{"broken": ' : media === 'multipart/form-data' ? '--b\r\n\r\n--b--' : '='
        const r = await env.t.req(method.toUpperCase(), url, { token: admin.token, raw, headers: { 'content-type': media === 'multipart/form-data' ? 'multipart/form-data; boundary=b' : media } })
        const documented = media in op.requestBody.content
        if (documented && r.status === 415) problems.push(`${method} ${path}: documented ${media} refused`)
        // /v1 answers only the statuses of its reference's table, where a refused media type is a 400 (with its error).
        const refused = path.startsWith('/v1/') ? [400, 404, 401] : [415, 404, 401]
        if (!documented && !refused.includes(r.status)) problems.push(`${method} ${path}: undocumented ${media} answered ${r.status}`)
      }
    }
    expect(problems).toEqual([])
  })

  test('a sample of real answers matches the declared schemas (status, media type, body)', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
    addFormats(ajv)
    const templates = Object.keys(doc.paths).map((p) => ({ p, re: new RegExp('^' + p.replace(/\{[^}]+\}/g, '[^/]+') + '$') }))
    const problems: string[] = []
    let checked = 0
    const succeeded: string[] = []
    const call = async (method: string, url: string, opts: { body?: unknown; token?: string | null } = {}) => {
      const r = await env.t.req(method, url, { body: opts.body, token: opts.token === null ? undefined : opts.token ?? admin.token })
      const pathname = url.split('?')[0]
      const matches = templates.filter((x) => x.re.test(pathname) && doc.paths[x.p][method.toLowerCase()])
      const template = (matches.find((x) => !x.p.includes('{')) ?? matches[0])?.p
      const op = template && doc.paths[template][method.toLowerCase()]
      if (!op) { problems.push(`${method} ${url}: no operation`); return r }
      const declared = resolve(op.responses[String(r.status)])
      if (!declared) { problems.push(`${method} ${template}: status ${r.status} not declared`); return r }
      const type = (r.headers.get('content-type') ?? '').split(';')[0]
      const content = declared.content?.[type]
      if (!content) { problems.push(`${method} ${template} ${r.status}: content type ${type} not declared`); return r }
      const schema = resolve(content.schema)
      const validate = ajv.compile(schema.$ref ? resolve(schema) : schema)
      if (type === 'application/json' && !validate(r.body)) problems.push(`${method} ${template} ${r.status}: ${ajv.errorsText(validate.errors)} in ${r.text.slice(0, 300)}`)
      checked++
      if (r.status < 300) succeeded.push(`${method} ${template}`)
      return r
    }
    const ws = admin.ws
    await call('GET', '/health', { token: null })
    await call('GET', '/api/auth/me')
    await call('GET', '/api/admin/users')
    await call('GET', '/api/workspaces')
    await call('GET', `/api/workspaces/${ws}`)
    await call('PATCH', `/api/workspaces/${ws}`, { body: { description: 'documented' } })
    await call('GET', '/api/workspaces/ws_nope')
    await call('POST', '/api/workspaces', { body: { name: 5 } })
    await call('GET', '/api/workspaces', { token: null })
    await call('POST', '/api/tokens', { body: { name: 'ci', scopes: ['workspaces.read'] } })
    await call('GET', '/api/tokens')
    await call('GET', '/api/wallet')
    await call('GET', '/api/wallet?limit=2')
    await call('GET', '/api/connections/platforms')
    await call('GET', '/api/connections')
    await call('GET', `/api/workspaces/${ws}/mcp-servers`)
    await call('GET', '/api/mcp/tools')
    await call('GET', '/api/mcp/calls')
    await call('GET', '/api/webhooks/events')
    await call('GET', '/api/webhooks')
    await call('GET', '/api/bots/templates')
    await call('GET', '/api/agent-endpoints/templates/list')
    const ep = await createEndpoint(env.t, admin, { auth_mode: 'public' })
    await call('GET', '/api/agent-endpoints')
    await call('GET', `/api/agent-endpoints/${ep.id}`)
    await call('POST', `/api/run/${ep.slug}`, { body: { input: 'hello' }, token: null })
    await call('POST', `/api/run/${ep.slug}`, { body: { nothing: null }, token: null })
    await call('GET', `/api/agent-endpoints/${ep.id}/runs`)
    const streaming = await createEndpoint(env.t, admin, { auth_mode: 'public', enable_streaming: true })
    const sse = await call('POST', `/api/run/${streaming.slug}`, { body: { input: 'stream it' }, token: null })
    expect(sse.headers.get('content-type')).toStartWith('text/event-stream')
    const asyncEp = await createEndpoint(env.t, admin, { auth_mode: 'public', async_mode: true })
    const queued = await call('POST', `/api/run/${asyncEp.slug}`, { body: { input: 'later' }, token: null })
    await call('GET', queued.body.status_url, { token: null })
    const bot = await call('POST', '/api/bots', { body: { name: 'doc bot', platform: 'custom', workspace_id: ws, system_prompt: 'x', llm_provider: 'openai', llm_model: 'gpt-4o-mini' } })
    await call('GET', '/api/bots')
    await call('GET', `/api/bots/${bot.body.bot.id}`)
    await call('POST', `/api/bots/${bot.body.bot.id}/activate`)
    await call('POST', `/api/bots/webhook/custom/${bot.body.bot.id}`, { body: { text: 'hi', channel_id: 'c1' }, token: null })
    await call('GET', `/api/bots/${bot.body.bot.id}/conversations`)
    await call('GET', `/api/bots/${bot.body.bot.id}/analytics`)
    const acct = await call('POST', '/api/bot/manage', { body: { name: 'Doc bot', slug: 'doc-bot', scopes: ['memory.read', 'memory.write'] } })
    await call('GET', '/api/bot/manage')
    const botKey = acct.body.apiKey ?? acct.body.api_key
    const botId = acct.body.bot?.id ?? acct.body.id
    await call('GET', `/api/bot/manage/${botId}`)
    await call('PUT', '/api/bot/memory/colour', { body: { value: { hue: 'blue' } }, token: botKey })
    await call('GET', '/api/bot/memory/colour', { token: botKey })
    await call('GET', '/api/bot/memory', { token: botKey })
    const hook = await call('POST', '/api/webhooks', { body: { url: 'http://127.0.0.1:9/hook', events: ['*'] } })
    await call('GET', '/api/webhooks')
    await call('GET', `/api/webhooks/${hook.body.webhook?.id}`)
    await call('GET', `/api/webhooks/${hook.body.webhook?.id}/deliveries`)
    await call('POST', `/api/bot/manage/${botId}/webhooks`, { body: { url: 'http://127.0.0.1:9/bot-hook', events: ['*'] } })
    await call('GET', `/api/bot/manage/${botId}/webhooks`)
    expect(problems).toEqual([])
    expect(checked).toBeGreaterThan(40)
    // The sample is mostly successful answers (the ones whose schemas are route-specific).
    expect(new Set(succeeded).size).toBeGreaterThan(35)
  })
})
