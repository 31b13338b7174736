// GET /api/runs and GET /api/runs/live: the caller's runs across sources, filters, cursor pages, scope filtering.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { EventSourceMessage } from 'eventsource-parser'
import { createEndpoint, epEnv, readSse, until, userWithWorkspace, type Ep, type EpEnv, type Who } from './endpoints-kit'

let env: EpEnv
let alice: Who
let bob: Who
let ep1: Ep
let ep2: Ep
let bobEp: Ep
let conv: string
const t = () => env.t

const runEp = (ep: Ep, input = 'hello') => t().req('POST', `/api/run/${ep.slug}`, { headers: { authorization: `Bearer ${ep.key}` }, body: { input } })
const list = (who: { token: string }, q = '') => t().req('GET', `/api/runs${q}`, { token: who.token })
const mkToken = async (who: Who, scopes: string[]) => {
  const r = await t().req('POST', '/api/tokens', { token: who.token, body: { name: 'runs', scopes } })
  if (r.status !== 201) throw new Error(`token: ${r.status} ${r.text}`)
  return { token: r.body.key as string }
}

beforeAll(async () => {
  env = await epEnv()
  alice = await userWithWorkspace(t())
  bob = await userWithWorkspace(t())
  ep1 = await createEndpoint(t(), alice)
  ep2 = await createEndpoint(t(), alice, { name: 'Second' })
  bobEp = await createEndpoint(t(), bob)
  expect((await runEp(ep1, 'one')).status).toBe(200)
  expect((await runEp(ep1, 'two')).status).toBe(200)
  env.llm.reply({ status: 401 })
  expect((await runEp(ep2, 'fails')).status).not.toBe(200)
  const c = await t().req('POST', '/api/chat/conversations', { token: alice.token, body: { title: 'Runs list' } })
  conv = c.body.conversation.id
  expect((await t().req('POST', `/api/chat/conversations/${conv}/messages`, { token: alice.token, body: { content: 'hi' } })).status).toBe(200)
  expect((await runEp(bobEp, 'bob')).status).toBe(200)
})
afterAll(() => env.close())

describe('GET /api/runs', () => {
  test('the caller\'s runs across sources, newest first, with the list item shape; never another user\'s', async () => {
    const r = await list(alice)
    expect(r.status).toBe(200)
    const runs = r.body.runs as any[]
    expect(runs.map((x) => x.source)).toEqual(['chat', 'endpoint', 'endpoint', 'endpoint'])
    expect(runs.map((x) => x.source_id)).toEqual([conv, ep2.id, ep1.id, ep1.id])
    expect(r.body.next_cursor).toBeNull()
    const created = runs.map((x) => x.created_at)
    expect([...created].sort().reverse()).toEqual(created)
    const ok = runs[1 + runs.slice(1).findIndex((x) => x.status === 'success')]
    expect(ok).toMatchObject({ status: 'success', mode: 'sync', error: null, finished_at: expect.any(String) })
    expect(ok.model).toBe('gpt-4o-mini')
    expect(ok.tokens_input).toBeGreaterThan(0)
    expect(ok.cost_cents).toBeGreaterThan(0)
    expect(Object.keys(ok).sort()).toEqual(['cost_cents', 'created_at', 'error', 'error_code', 'finished_at', 'id', 'latency_ms', 'mode', 'model',
      'source', 'source_id', 'started_at', 'status', 'tokens_input', 'tokens_output'])
    expect(runs.some((x) => x.source_id === bobEp.id)).toBe(false)
    const b = await list(bob)
    expect(b.body.runs.map((x: any) => x.source_id)).toEqual([bobEp.id])
    // Filtering on someone else's agent finds nothing (no oracle).
    expect((await list(bob, `?source_id=${ep1.id}`)).body.runs).toEqual([])
  })

  test('filters: status, source, source_id', async () => {
    const by = async (q: string) => (await list(alice, q)).body.runs as any[]
    expect((await by('?source=chat')).map((x) => x.source_id)).toEqual([conv])
    expect((await by('?source=endpoint')).length).toBe(3)
    expect((await by(`?source_id=${ep1.id}`)).map((x) => x.status)).toEqual(['success', 'success'])
    const failed = await by('?status=error')
    expect(failed.map((x) => x.source_id)).toEqual([ep2.id])
    expect(failed[0].error).toEqual(expect.any(String))
    expect(await by('?status=queued')).toEqual([])
    expect((await by(`?source=chat&source_id=${ep1.id}`))).toEqual([])
    expect((await list(alice, '?source=nope')).status).toBe(400)
    expect((await list(alice, '?status=done')).status).toBe(400)
  })

  test('cursor pages walk the whole list once, in order', async () => {
    const all = (await list(alice)).body.runs.map((x: any) => x.id)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const r: any = await list(alice, `?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      expect(r.status).toBe(200)
      expect(r.body.runs.length).toBeLessThanOrEqual(3)
      seen.push(...r.body.runs.map((x: any) => x.id))
      cursor = r.body.next_cursor
      pages++
    } while (cursor)
    expect(pages).toBe(2)
    expect(seen).toEqual(all)
    const two = await list(alice, '?limit=2&source=endpoint')
    const rest = await list(alice, `?limit=2&source=endpoint&cursor=${two.body.next_cursor}`)
    expect([...two.body.runs, ...rest.body.runs].map((x: any) => x.source)).toEqual(['endpoint', 'endpoint', 'endpoint'])
    expect(rest.body.next_cursor).toBeNull()
    expect((await list(alice, '?cursor=not-a-cursor')).status).toBe(400)
    expect((await list(alice, '?limit=0')).status).toBe(400)
  })

  test('a token lists only the sources its scopes may read; all=true needs an admin token', async () => {
    const chatOnly = await mkToken(alice, ['chat.read'])
    expect((await list(chatOnly)).body.runs.map((x: any) => x.source)).toEqual(['chat'])
    expect((await list(chatOnly, '?source=endpoint')).status).toBe(403)
    const epOnly = await mkToken(alice, ['endpoints.read'])
    expect((await list(epOnly)).body.runs.map((x: any) => x.source)).toEqual(['endpoint', 'endpoint', 'endpoint'])
    const none = await mkToken(alice, ['workspaces.read'])
    expect((await list(none)).body.runs).toEqual([])
    expect((await list(alice, '?all=true')).status).toBe(403)
    // Alice registered first: an admin. Her admin token lists every user's runs with all=true, her own without.
    const admin = await t().req('POST', '/api/tokens', { token: alice.token, body: { name: 'ops', type: 'admin' } })
    expect(admin.status).toBe(201)
    const adm = { token: admin.body.key as string }
    expect((await list(adm)).body.runs.every((x: any) => x.source_id !== bobEp.id)).toBe(true)
    expect((await list(adm, '?all=true')).body.runs.some((x: any) => x.source_id === bobEp.id)).toBe(true)
    expect((await list(bob, '?all=true')).status).toBe(403)
    expect((await t().req('GET', '/api/runs')).status).toBe(401)
  })
})

/** Opens the live feed and collects its events until `stop()`. */
async function live(who: { token: string }, q = '') {
  const res = await t().app.handle(new Request(`http://localhost/api/runs/live${q}`, { headers: { authorization: `Bearer ${who.token}` } }))
  const events: EventSourceMessage[] = []
  let stopped = false
  const done = res.status === 200 ? readSse(res, (e) => { events.push(e); return stopped }) : Promise.resolve()
  return { res, events, updates: () => events.filter((e) => e.event === 'run.updated').map((e) => JSON.parse(e.data)), stop: () => { stopped = true }, done }
}

describe('GET /api/runs/live', () => {
  test('delivers run.updated for a run created after connecting; not other users\' runs; tokens see only their sources', async () => {
    const a = await live(alice)
    const chatOnly = await live(await mkToken(alice, ['chat.read']))
    const b = await live(bob)
    expect(a.res.status).toBe(200)
    expect(a.res.headers.get('content-type')).toContain('text/event-stream')
    await until(() => a.events.some((e) => e.event === 'ready'), 10_000, 'ready')
    expect((await runEp(bobEp, 'bob again')).status).toBe(200)
    const r = await runEp(ep1, 'live one')
    expect(r.status).toBe(200)
    const id = r.body.run_id
    await until(() => a.updates().some((u) => u.id === id && u.run.status === 'success'), 10_000, 'the run in the live feed')
    await until(() => b.updates().length > 0, 10_000, 'bob\'s run in bob\'s feed')
    const mine = a.updates().find((u) => u.id === id)
    expect(mine.type).toBe('run.updated')
    expect(mine.run).toMatchObject({ id, source: 'endpoint', source_id: ep1.id, status: 'success' })
    // The list shows the same item.
    expect((await list(alice)).body.runs[0]).toEqual(mine.run)
    expect(a.updates().every((u) => u.run.source_id !== bobEp.id)).toBe(true)
    expect(b.updates().every((u) => u.run.source_id === bobEp.id)).toBe(true)
    expect(chatOnly.events.some((e) => e.event === 'ready')).toBe(true)
    expect(chatOnly.updates()).toEqual([])
    for (const s of [a, b, chatOnly]) s.stop()
  })

  test('a streamed run is seen running, then finished; source filters apply', async () => {
    const streaming = await createEndpoint(t(), alice, { name: 'Streamer', enable_streaming: true })
    const onlyIt = await live(alice, `?source_id=${streaming.id}`)
    const other = await live(alice, '?source=chat')
    const res = await t().app.handle(new Request(`http://localhost/api/run/${streaming.slug}`, {
      method: 'POST', headers: { authorization: `Bearer ${streaming.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'stream it' }),
    }))
    expect(res.status).toBe(200)
    await res.text()
    await until(() => onlyIt.updates().some((u) => u.run.status === 'success'), 10_000, 'the streamed run finished')
    expect(onlyIt.updates().map((u) => u.run.status)).toEqual(['running', 'success'])
    expect((await runEp(ep1, 'not this one')).status).toBe(200)
    expect(other.updates()).toEqual([])
    expect((await t().req('GET', '/api/runs/live?source=nope', { token: alice.token })).status).toBe(400)
    onlyIt.stop(); other.stop()
  })
})
