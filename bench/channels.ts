/**
 * Channels benchmarks (issue 6). Run: `npx bun bench/channels.ts` (about 45 s). Loopback only.
 *
 * 1. Telegram webhook ingestion, autocannon (this process) against two servers (child processes), one
 *    after the other in the same run, both on SQLite WAL with synchronous=FULL:
 *      - baseline: a bare Elysia route that checks the secret header and does one INSERT per request;
 *      - ours: the real app (`createApp`: request ids, body limit, access metrics, bot lookup, constant-time
 *        secret check, parse) committing to the durable inbox with group commit, ack after commit.
 *    Every request carries a new update_id (no dedupe shortcut). The inbox worker is not started in this
 *    phase (ingestion only: the updates pile up durably, as during a burst).
 * 2. End to end: 200 chats x 5 messages posted at once (each chat posts its 5 in a row, waiting only for
 *    the ack), fake LLM (this process) answering after 50 ms, fake Telegram (this process) recording the
 *    replies. Checks every message answered exactly once and in order per chat; reports throughput and RSS.
 *
 * Roles (internal): `bun bench/channels.ts baseline|ours|e2e`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { benchApp } from './_app'
import { openDb } from '../src/db/open'
import { safeEqual } from '../src/auth/keys'
import { startFakePlatforms } from '../tests/fixtures/fake-platforms'
import { startFakeLlm } from '../tests/fixtures/fake-llm'
import { telegramKit, TELEGRAM_SECRET } from '../tests/fixtures/channel-kit'
import { firstLine } from './_spawn'

const role = process.argv[2]
const DURATION_S = 10
const CONNECTIONS = 50
const CHATS = 200
const PER_CHAT = 5
const LLM_DELAY_MS = 50

/** The naive route: same pragmas (openDb, synchronous=FULL), one INSERT (its own transaction) per request. */
async function baselineServer() {
  const dir = mkdtempSync(join(tmpdir(), 'agentbase-bench-base-'))
  const db = openDb(join(dir, 'base.db'), 'full')
  db.exec(`CREATE TABLE inbox (id INTEGER PRIMARY KEY, bot_id TEXT NOT NULL, dedupe_key TEXT NOT NULL, chat TEXT NOT NULL, payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', received_at TEXT NOT NULL, UNIQUE (bot_id, dedupe_key))`)
  const insert = db.query('INSERT INTO inbox (bot_id, dedupe_key, chat, payload, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
  const app = new Elysia().post('/api/bots/webhook/telegram/:botId', ({ params, body, request, set }) => {
    if (!safeEqual(request.headers.get('x-telegram-bot-api-secret-token') ?? '', TELEGRAM_SECRET)) { set.status = 401; return { error: 'bad secret' } }
    const u = body as any
    insert.run(params.botId, `update:${u.update_id}`, String(u.message.chat.id), JSON.stringify(u.message), new Date().toISOString())
    return { ok: true }
  }).listen({ port: 0, hostname: '127.0.0.1' })
  console.log(`http://127.0.0.1:${app.server!.port} bt_baseline ${dir}`)
}

/** The real app over a fresh data dir (synchronous=FULL), with an active Telegram bot. */
async function ourServer(withWorker: boolean) {
  const { dir, k, app, call, token, ws } = await benchApp('ours')
  const bot = (await call('POST', '/api/bots', { name: 'bench', platform: 'telegram', workspace_id: ws.id, system_prompt: 'Be brief.', platform_config: telegramKit.config, llm_provider: 'openai', llm_model: 'gpt-4o-mini' }, token)).bot
  await call('POST', `/api/bots/${bot.id}/activate`, undefined, token)
  app.listen({ port: 0, hostname: '127.0.0.1' })
  if (withWorker) k.workers.start('channels.inbox')
  console.log(`http://127.0.0.1:${app.server!.port} ${bot.id} ${dir}`)
}

const children = new Set<ReturnType<typeof Bun.spawn>>()
process.on('exit', () => { for (const c of children) { try { c.kill(9) } catch { /* gone */ } } })

async function spawnRole(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, import.meta.path, ...args], { stdout: 'pipe', stderr: 'inherit', env: { ...process.env, ...env } })
  children.add(proc)
  const [url, botId, dir] = await firstLine(proc.stdout, args[0])
  return { proc, url, botId, dir, stop: async () => { proc.kill(); await proc.exited; rmSync(dir, { recursive: true, force: true }) } }
}

const updateBody = (id: number, chat: number, text: string) => JSON.stringify({
  update_id: id,
  message: { message_id: id, date: 1710000000, chat: { id: chat, type: 'private' }, from: { id: chat, is_bot: false, first_name: 'Bench' }, text },
})

interface Load { rps: number; total: number; non2xx: number; errors: number; timeouts: number; latency: { p50: number; p90: number; p99: number; max: number } }

/** autocannon under node, in its own process (bench/channels-load.mjs). */
async function ingest(url: string, botId: string, firstId: number, seconds = DURATION_S): Promise<Load> {
  const proc = Bun.spawn(['node', join(import.meta.dir, 'channels-load.mjs'), `${url}/api/bots/webhook/telegram/${botId}`, TELEGRAM_SECRET, String(firstId), String(seconds), String(CONNECTIONS)], { stdout: 'pipe', stderr: 'inherit' })
  const out = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0) throw new Error('load generator failed')
  return JSON.parse(out)
}

const count = (dir: string, sql: string) => { const db = openDb(join(dir, sql.includes('channel_inbox') ? 'agentbase.db' : 'base.db'), 'normal'); try { return (db.query(sql).get() as { n: number }).n } finally { db.close() } }
const statusOf = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8')
const memMb = (pid: number, field: 'VmRSS' | 'VmHWM') => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(statusOf(pid))?.[1] ?? 0) / 1024)

async function ingestion() {
  const rows: string[] = []
  const fake = await startFakePlatforms() // only for the bot's activation (setWebhook)
  for (const which of ['baseline', 'ours'] as const) {
    const s = await spawnRole([which], { TELEGRAM_API_URL: fake.env.TELEGRAM_API_URL })
    await ingest(s.url, s.botId, 1_000_000, 2) // warm up
    const r = await ingest(s.url, s.botId, 10_000_000)
    const stored = count(s.dir, which === 'baseline' ? "SELECT count(*) AS n FROM inbox WHERE dedupe_key LIKE 'update:1_______'" : "SELECT count(*) AS n FROM channel_inbox WHERE dedupe_key LIKE 'update:1_______'")
    const non2xx = r.non2xx + r.errors + r.timeouts
    rows.push(`| ${which === 'baseline' ? 'bare Elysia + 1 INSERT/request' : 'Agentbase (group commit inbox)'} | ${Math.round(r.rps).toLocaleString('en')} | ${r.latency.p50} | ${r.latency.p90} | ${r.latency.p99} | ${r.latency.max} | ${r.total.toLocaleString('en')} | ${stored.toLocaleString('en')} | ${non2xx} | ${memMb(s.proc.pid, 'VmHWM')} |`)
    await s.stop()
  }
  fake.close()
  console.log(`\nTelegram webhook ingestion: ${CONNECTIONS} connections, ${DURATION_S} s each, synchronous=FULL, unique update_id per request`)
  console.log('| server | acks/s | p50 ms | p90 ms | p99 ms | max ms | acked | rows stored | errors | peak RSS MB |')
  console.log('|---|---|---|---|---|---|---|---|---|---|')
  for (const r of rows) console.log(r)
}

async function endToEnd() {
  const fake = await startFakePlatforms()
  const llm = await startFakeLlm({ record: false })
  llm.defaultReply = (req) => ({ text: `re: ${req.body?.messages?.at(-1)?.content}`, delayMs: LLM_DELAY_MS, usage: { input: 20, output: 5 } })
  const s = await spawnRole(['e2e'], { TELEGRAM_API_URL: fake.env.TELEGRAM_API_URL, OPENAI_BASE_URL: llm.openaiBase })
  const total = CHATS * PER_CHAT
  let peakRss = 0
  const sampler = setInterval(() => { try { peakRss = Math.max(peakRss, memMb(s.proc.pid, 'VmRSS')) } catch { /* exited */ } }, 50)
  const t0 = performance.now()
  const ackLatencies: number[] = []
  await Promise.all(Array.from({ length: CHATS }, async (_, c) => {
    for (let i = 0; i < PER_CHAT; i++) {
      const started = performance.now()
      const res = await fetch(`${s.url}/api/bots/webhook/telegram/${s.botId}`, {
        method: 'POST', body: updateBody(c * 100 + i + 1, 900000 + c, `chat ${c} message ${i}`),
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
      })
      await res.text()
      ackLatencies.push(performance.now() - started)
      if (res.status !== 200) throw new Error(`ack ${res.status}`)
    }
  }))
  const ackedAt = performance.now()
  const sends = () => fake.calls.filter((x) => x.method === 'sendMessage')
  while (sends().length < total && performance.now() - t0 < 120_000) await Bun.sleep(20)
  await Bun.sleep(500) // a duplicate would show up here
  const doneAt = performance.now()
  clearInterval(sampler)
  const byChat = new Map<number, string[]>()
  for (const x of sends()) { const chat = Number(x.body.chat_id); byChat.set(chat, [...(byChat.get(chat) ?? []), x.body.text]) }
  let inOrder = 0
  for (let c = 0; c < CHATS; c++) {
    const expected = Array.from({ length: PER_CHAT }, (_, i) => `re: chat ${c} message ${i}`)
    if (JSON.stringify(byChat.get(900000 + c)) === JSON.stringify(expected)) inOrder++
  }
  const sorted = ackLatencies.sort((a, b) => a - b)
  const elapsed = (doneAt - 500 - t0) / 1000
  console.log(`\nEnd to end: ${CHATS} chats x ${PER_CHAT} messages, fake LLM ${LLM_DELAY_MS} ms, synchronous=FULL, AGENTBASE_CHANNEL_CONCURRENCY=${process.env.AGENTBASE_CHANNEL_CONCURRENCY ?? 64}`)
  console.log('| messages | replies sent | chats fully in order | all acked after s | all answered after s | answers/s | ack p50 ms | ack p99 ms | peak RSS MB |')
  console.log('|---|---|---|---|---|---|---|---|---|')
  console.log(`| ${total} | ${sends().length} | ${inOrder}/${CHATS} | ${((ackedAt - t0) / 1000).toFixed(2)} | ${elapsed.toFixed(2)} | ${Math.round(total / elapsed)} | ${sorted[Math.floor(sorted.length * 0.5)].toFixed(1)} | ${sorted[Math.floor(sorted.length * 0.99)].toFixed(1)} | ${peakRss} |`)
  const done = count(s.dir, "SELECT count(*) AS n FROM channel_inbox WHERE status = 'done'")
  console.log(`inbox rows done: ${done}/${total}`)
  await s.stop()
  fake.close(); llm.close()
}

async function main() {
  console.log(`channels bench — bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, ${new Date().toISOString().slice(0, 10)}`)
  await ingestion()
  await endToEnd()
}

if (role === 'baseline') await baselineServer()
else if (role === 'ours' || role === 'e2e') await ourServer(role === 'e2e')
else {
  try { await main() } catch (err) { console.error(err); process.exitCode = 1 }
  process.exit()
}
