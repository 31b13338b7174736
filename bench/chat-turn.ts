/**
 * Orchestrator overhead per chat turn (issue 12). Run: `npx bun bench/chat-turn.ts` (about 30 s).
 *
 * The same fake LLM (tests/fixtures/fake-llm.ts, one-word answer) behind both paths, alternating turn by turn:
 *   runtime  collect(run(k, spec, { message, history })) — the agent runtime alone, same spec and tools
 *   chat     POST /api/chat/conversations/:id/messages (JSON) through app.handle: auth, conversation and lock,
 *            tool catalog + BM25 selection + intent, history windowing, the run service (recorded run, billing),
 *            the turn's messages saved in the run's transaction (AGENTBASE_SYNC=full), the answer shaped
 * Conversations are replaced every 20 turns, so the history window is 0-38 messages. Target: p50 overhead < 2 ms.
 */
import { rmSync } from 'node:fs'
import { benchApp } from './_app'
import { startFakeLlm } from '../tests/fixtures/fake-llm'
import { collect, run } from '../src/agent/run'
import { workspaceToolSet } from '../src/tools/workspace-tools'

const TURNS = Number(process.env.BENCH_TURNS ?? 400)
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

const llm = await startFakeLlm({ record: false })
llm.defaultReply = { text: 'ok', usage: { input: 50, output: 1 } }
const b = await benchApp('chat', { OPENAI_BASE_URL: llm.openaiBase, AGENTBASE_SYNC: process.env.AGENTBASE_SYNC ?? 'full' })
const me = (await b.call('GET', '/api/auth/me', undefined, b.token))
const ownerId: string = me.user?.id ?? me.id
const tools = workspaceToolSet(b.k, ownerId, b.ws.id)
const spec = { systemPrompt: 'You are the Agentbase assistant.', provider: 'openai' as const, model: 'gpt-4o-mini', tools, ownerId, surface: 'chat', maxToolCalls: 12, maxIterations: 10, timeoutMs: 60_000 }

let conv = ''
const history: any[] = []
async function chatTurn(i: number) {
  if (i % 20 === 0) conv = (await b.call('POST', '/api/chat/conversations', { title: 'bench' }, b.token)).conversation.id
  const res = await b.app.handle(new Request(`http://127.0.0.1/api/chat/conversations/${conv}/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${b.token}` }, body: JSON.stringify({ content: `What time is it in Berlin? (${i})` }),
  }))
  const m = await res.json() as { content?: string }
  if (m.content !== 'ok') throw new Error(`chat turn failed: ${JSON.stringify(m)}`)
}
async function runtimeTurn(i: number) {
  if (i % 20 === 0) history.length = 0
  const c = await collect(run(b.k, spec, { message: `What time is it in Berlin? (${i})`, history: [...history] }, { stream: false }))
  if (!c.ok) throw new Error(`runtime turn failed: ${c.error}`)
  history.push({ role: 'user', content: `What time is it in Berlin? (${i})` }, { role: 'assistant', content: 'ok' })
}

console.log(`agentbase chat turn bench — bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, ${new Date().toISOString()}, ${TURNS} turns each`)
for (let i = 0; i < 20; i++) { await runtimeTurn(i); await chatTurn(i) } // warm-up
const a: number[] = []
const c: number[] = []
// CPU time of this process per turn (the fake LLM runs in it too, the same for both paths): robust to other load.
const aCpu: number[] = []
const cCpu: number[] = []
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000
for (let i = 0; i < TURNS; i++) {
  let u = process.cpuUsage()
  let t = performance.now(); await runtimeTurn(i); a.push(performance.now() - t)
  aCpu.push(cpuMs(process.cpuUsage(u)))
  u = process.cpuUsage()
  t = performance.now(); await chatTurn(i); c.push(performance.now() - t)
  cCpu.push(cpuMs(process.cpuUsage(u)))
}
for (const l of [a, c, aCpu, cCpu]) l.sort((x, y) => x - y)
console.log(`runtime alone   p50 ${pct(a, 50).toFixed(2)} ms  p90 ${pct(a, 90).toFixed(2)} ms  p99 ${pct(a, 99).toFixed(2)} ms`)
console.log(`chat turn       p50 ${pct(c, 50).toFixed(2)} ms  p90 ${pct(c, 90).toFixed(2)} ms  p99 ${pct(c, 99).toFixed(2)} ms`)
console.log(`CPU per turn    runtime p50 ${pct(aCpu, 50).toFixed(2)} ms, chat p50 ${pct(cCpu, 50).toFixed(2)} ms: overhead ${(pct(cCpu, 50) - pct(aCpu, 50)).toFixed(2)} ms`)
console.log(`overhead        p50 ${(pct(c, 50) - pct(a, 50)).toFixed(2)} ms  (target < 2 ms); load average ${(await Bun.file('/proc/loadavg').text()).split(' ').slice(0, 3).join(' ')}`)
llm.close()
b.k.close()
rmSync(b.dir, { recursive: true, force: true })
