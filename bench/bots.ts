/**
 * Bots engine benchmarks (issue 6, bots side). Run: `npx bun bench/bots.ts` (about 15 s). Loopback only.
 *
 * 1. Engine: handleIncoming for 200 conversations x 5 messages (each conversation sends its next message
 *    when the previous one is answered; all conversations at once), fake LLM answering after 50 ms (a
 *    child process), SQLite WAL with synchronous=FULL. Every answer is one transaction (2 messages, usage,
 *    cost, wallet debit, 2-3 events). Reports messages/s, per-message latency and the engine's own share
 *    (latency minus the model's 50 ms), RSS; checks every message answered once and in order.
 * 2. Reads on a large bot: 100,000 messages in 10,000 conversations over 30 days, then the analytics,
 *    insights and conversation-list queries (median and max of 20 runs each).
 *
 * Role (internal): `bun bench/bots.ts llm` runs the fake LLM server.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createKernel, type Kernel } from '../src/kernel'
import { createApp } from '../src/app'
import { newId } from '../src/db/ids'
import { iso } from '../src/clock'
import { startFakeLlm } from '../tests/fixtures/fake-llm'
import { handleIncoming } from '../plugins/bots/engine'
import { analytics, insights } from '../plugins/bots/analytics'
import { listConversations } from '../plugins/bots/conversations'
import { botStore } from '../plugins/bots/store'
import * as wallet from '../plugins/wallet/service'

const CHATS = 200, PER_CHAT = 5, LLM_DELAY_MS = 50


function setupKernel(llmBase: string): { k: Kernel; dir: string; owner: string; botId: string } {
  const dir = mkdtempSync(join(tmpdir(), 'agentbase-bench-bots-'))
  const config = loadConfig({ AGENTBASE_DATA_DIR: dir, AGENTBASE_SYNC: process.env.BENCH_SYNC ?? 'full', LOG_LEVEL: 'silent', OPENAI_BASE_URL: llmBase, OPENAI_API_KEY: 'sk-bench', AGENTBASE_OUTBOUND_ALLOW: '127.0.0.1,localhost' })
  const k = createKernel(config)
  createApp(k) // registers the plugins' tool providers, as in serve
  const now = iso(k.clock.now())
  const owner = newId('usr'), ws = newId('ws'), botId = newId('bt')
  k.db.query("INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES (?, 'bench@example.com', 'x', 'admin', ?, ?)").run(owner, now, now)
  k.db.query("INSERT INTO workspaces (id, owner_id, name, created_at, updated_at) VALUES (?, ?, 'bench', ?, ?)").run(ws, owner, now, now)
  botStore(k.db).insert({
    id: botId, owner_id: owner, workspace_id: ws, template_id: null, name: 'Bench', slug: 'bench', description: null, platform: 'custom', platform_config: null,
    status: 'active', system_prompt: 'You are a benchmark bot.', llm_provider: 'openai', llm_model: 'gpt-4o-mini', llm_api_key: null, llm_config: '{}',
    billing_mode: 'wallet', max_loop_iterations: 10, max_tokens_per_turn: 1024, timeout_ms: 30000, conversation_max_messages: 20, conversation_ttl_hours: 24,
    enable_rag: 0, welcome_message: null, fallback_message: null, spending_cap_micro: null, total_cost_micro: 0, workflow_json: null, workflow_enabled: 0,
    last_active_at: null, created_at: now, updated_at: now, tools: null,
  })
  k.db.transaction(() => wallet.credit(k, owner, wallet.fromCents(1_000_000), 'bench', owner))()
  return { k, dir, owner, botId }
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] }
const ms = (n: number) => `${n.toFixed(1)} ms`

async function engineBench() {
  const child = Bun.spawn([process.execPath, import.meta.path, 'llm'], { stdout: 'pipe', stderr: 'inherit' })
  const reader = child.stdout.getReader()
  const { value } = await reader.read()
  const llmBase = new TextDecoder().decode(value).trim()
  const { k, dir, botId } = setupKernel(llmBase)
  const lat: number[] = []
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CHATS }, async (_, c) => {
    for (let i = 0; i < PER_CHAT; i++) {
      const s = performance.now()
      const r = await handleIncoming(k, botId, { chatId: `chat${c}`, userId: `user${c}`, text: `chat ${c} message ${i}` })
      if (r.failed) throw new Error(`failed: ${r.error?.message}`)
      lat.push(performance.now() - s)
    }
  }))
  const elapsed = (performance.now() - t0) / 1000
  const rss = process.memoryUsage().rss / 1024 / 1024
  // Checks: every message once, answered, in order per conversation.
  const rows = k.db.query<{ conversation_id: string; role: string; content: string; seq: number }, []>('SELECT conversation_id, role, content, seq FROM bot_messages ORDER BY conversation_id, seq').all()
  const users = rows.filter((r) => r.role === 'user'), answers = rows.filter((r) => r.role === 'assistant')
  const byConv = new Map<string, string[]>()
  for (const r of users) byConv.set(r.conversation_id, [...(byConv.get(r.conversation_id) ?? []), r.content])
  const inOrder = [...byConv.values()].every((m) => m.every((t, i) => t.endsWith(`message ${i}`)))
  const ok = users.length === CHATS * PER_CHAT && answers.length === CHATS * PER_CHAT && byConv.size === CHATS && inOrder
  child.kill()
  k.close()
  rmSync(dir, { recursive: true, force: true })
  const overhead = lat.map((x) => x - LLM_DELAY_MS)
  console.log('\n## Engine: 200 conversations x 5 messages, fake LLM 50 ms, synchronous=FULL\n')
  console.log('| messages | seconds | messages/s | p50 latency | p99 latency | engine share p50 | engine share p99 | RSS | all answered once, in order |')
  console.log('|---|---|---|---|---|---|---|---|---|')
  console.log(`| ${lat.length} | ${elapsed.toFixed(2)} | ${(lat.length / elapsed).toFixed(0)} | ${ms(pct(lat, 50))} | ${ms(pct(lat, 99))} | ${ms(pct(overhead, 50))} | ${ms(pct(overhead, 99))} | ${rss.toFixed(0)} MB | ${ok ? 'yes' : 'NO'} |`)
  if (!ok) process.exitCode = 1
}

async function readsBench() {
  const { k, dir, botId } = setupKernel('http://127.0.0.1:9/v1')
  const CONVS = 10_000, PER_CONV = 10
  const start = Date.parse('2026-02-12T00:00:00Z')
  const t0 = performance.now()
  const insConv = k.db.query(`INSERT INTO bot_conversations (id, bot_id, platform_chat_id, platform_user_id, status, message_count, tokens_input, tokens_output,
    total_cost_micro, started_at, last_message_at) VALUES (?, ?, ?, ?, 'active', ?, 0, 0, 0, ?, ?)`)
  const insMsg = k.db.query(`INSERT INTO bot_messages (id, seq, conversation_id, bot_id, role, kind, content, reply_to, tool_calls, tool_count, tokens_input,
    tokens_output, cost_micro, latency_ms, error, stop_reason, billing_mode, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'wallet', ?)`)
  k.db.transaction(() => {
    for (let c = 0; c < CONVS; c++) {
      const conv = newId('bconv'), at = start + Math.floor((c / CONVS) * 30 * 86400_000)
      insConv.run(conv, botId, `chat${c}`, `user${c % 3000}`, PER_CONV, iso(at), iso(at + PER_CONV * 1000))
      let userMsg = ''
      for (let m = 0; m < PER_CONV; m++) {
        const id = newId('bmsg'), user = m % 2 === 0, when = iso(at + m * 1000)
        const tools = !user && c % 3 === 0 ? JSON.stringify([{ tool: c % 2 ? 'current_time' : 'http_request', success: c % 7 !== 0, latency_ms: 40 }]) : '[]'
        const failed = !user && c % 50 === 0
        insMsg.run(id, m + 1, conv, botId, user ? 'user' : 'assistant', failed ? 'fallback' : 'message', user ? `question ${c}.${m}` : `answer ${c}.${m}`,
          user ? null : userMsg, user ? null : tools, tools === '[]' ? 0 : 1, user ? 0 : 400, user ? 0 : 30, user ? 0 : 7800, user ? null : 900, failed ? 'boom' : null, failed ? 'run_failed' : null, when)
        if (user) userMsg = id
      }
    }
  })()
  const seedS = (performance.now() - t0) / 1000
  k.clock = { now: () => Date.parse('2026-03-14T00:00:00Z') }
  const bot = botStore(k.db).get(botId)!
  const time = (f: () => unknown) => { const xs: number[] = []; for (let i = 0; i < 20; i++) { const s = performance.now(); f(); xs.push(performance.now() - s) } return xs }
  const rows: [string, number[]][] = [
    ['analytics, default 30 days (100k messages in range)', time(() => analytics(k, bot, {}))],
    ['analytics, one day', time(() => analytics(k, bot, { from: '2026-03-01', to: '2026-03-01' }))],
    ['insights (all time)', time(() => insights(k, botId))],
    ['conversations, limit 50', time(() => listConversations(k, botId, 50, 0))],
    ['conversations, limit 100 offset 9,900', time(() => listConversations(k, botId, 100, 9900))],
  ]
  k.close()
  rmSync(dir, { recursive: true, force: true })
  console.log(`\n## Reads: one bot with ${CONVS * PER_CONV} messages in ${CONVS} conversations over 30 days (seeded in ${seedS.toFixed(1)} s)\n`)
  console.log('| query | median | max (20 runs) |')
  console.log('|---|---|---|')
  for (const [name, xs] of rows) console.log(`| ${name} | ${ms(pct(xs, 50))} | ${ms(Math.max(...xs))} |`)
}

async function main() {
  console.log(`# Bots benchmarks (${new Date().toISOString().slice(0, 10)}, bun ${Bun.version}, ${navigator.hardwareConcurrency} cores)`)
  await engineBench()
  await readsBench()
}

if (process.argv[2] === 'llm') {
  const llm = await startFakeLlm({ record: false })
  llm.defaultReply = { text: 'Sure, here is the answer.', usage: { input: 400, output: 20 }, delayMs: LLM_DELAY_MS }
  console.log(llm.openaiBase)
} else await main()
