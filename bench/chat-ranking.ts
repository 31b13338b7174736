/**
 * Tool selection quality and latency (issue 12). Run: `npx bun bench/chat-ranking.ts` (a few seconds).
 *
 * Quality: the labelled set of bench/chat/tools-dataset.ts (300+ tools modelled on real platform APIs, 100+ requests
 * each labelled with the tool it needs). The ranking is the orchestrator's own (`selectTools`: BM25F over names,
 * descriptions and parameter names). Reports recall@1, recall@5 (target >= 0.9), recall@8 (what a turn offers) and MRR.
 * Latency: one ranking (the per-turn cost; the index is built once per catalog) with 1,000 tools: the labelled set
 * plus look-alike copies (the same APIs under other connection names), p50/p99 over every request, many rounds.
 */
import { selectTools, indexFor } from '../plugins/chat/selection'
import type { CatalogEntry } from '../src/tools/workspace-tools'
import { TOOLS, REQUESTS, HELDOUT } from './chat/tools-dataset'

const entry = (name: string, description: string, params: string[]): CatalogEntry => ({
  name, originalName: name, description, source: 'bench', kind: 'connection', available: true,
  inputSchema: { type: 'object', properties: Object.fromEntries(params.map((p) => [p, { type: 'string' }])) },
})

const catalog = TOOLS.map((t) => entry(t.name, t.description, t.params))

function quality(cat: CatalogEntry[], requests = REQUESTS) {
  let r1 = 0, r5 = 0, r8 = 0, mrr = 0
  const misses: string[] = []
  for (const [q, want] of requests) {
    const ranked = selectTools(cat, q).ranked
    const pos = ranked.findIndex((r) => r.name === want)
    if (pos === 0) r1++
    if (pos >= 0 && pos < 5) r5++
    else misses.push(`  "${q}" -> ${want} at ${pos < 0 ? 'unranked' : pos + 1}; top: ${ranked.slice(0, 3).map((r) => r.name).join(', ')}`)
    if (pos >= 0 && pos < 8) r8++
    if (pos >= 0) mrr += 1 / (pos + 1)
  }
  const n = requests.length
  return { recall1: r1 / n, recall5: r5 / n, recall8: r8 / n, mrr: mrr / n, misses }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

function latency(cat: CatalogEntry[], rounds: number) {
  const t0 = performance.now()
  indexFor([...cat]) // a fresh array: the build is not cached
  const build = performance.now() - t0
  for (const [q] of REQUESTS) selectTools(cat, q) // warm-up
  const lat: number[] = []
  const cpu: number[] = []
  for (let r = 0; r < rounds; r++) {
    for (const [q] of REQUESTS) {
      const c = process.cpuUsage()
      const s = performance.now()
      selectTools(cat, q, { context: 'and then post it to the team channel' })
      lat.push(performance.now() - s)
      const d = process.cpuUsage(c)
      cpu.push((d.user + d.system) / 1000)
    }
  }
  lat.sort((a, b) => a - b)
  cpu.sort((a, b) => a - b)
  return { build, p50: pct(lat, 50), p99: pct(lat, 99), max: lat.at(-1)!, n: lat.length, cpuP50: pct(cpu, 50), cpuP99: pct(cpu, 99) }
}

console.log(`agentbase chat tool-ranking bench — bun ${Bun.version}, ${new Date().toISOString()}`)
console.log(`labelled set: ${catalog.length} tools, ${REQUESTS.length} requests`)
const q = quality(catalog)
console.log(`recall@1 ${q.recall1.toFixed(3)}  recall@5 ${q.recall5.toFixed(3)}  recall@8 ${q.recall8.toFixed(3)}  MRR ${q.mrr.toFixed(3)}`)
if (q.misses.length) console.log(`missed at 5:\n${q.misses.join('\n')}`)
const h = quality(catalog, HELDOUT)
console.log(`held-out requests (${HELDOUT.length}, never used for tuning): recall@1 ${h.recall1.toFixed(3)}  recall@5 ${h.recall5.toFixed(3)}  recall@8 ${h.recall8.toFixed(3)}  MRR ${h.mrr.toFixed(3)}`)
if (h.misses.length) console.log(`held-out missed at 5:\n${h.misses.join('\n')}`)

// 1,000 tools: the labelled set plus copies under other connection names (a second Slack workspace, a sandbox CRM...).
const big = [...catalog]
for (let i = 2; big.length < 1000; i++) {
  for (const t of TOOLS) {
    if (big.length >= 1000) break
    const [platform, ...op] = t.name.split('_')
    big.push(entry(`${platform}_account${i}_${op.join('_') || platform}`, `${t.description} (account ${i})`, t.params))
  }
}
const qb = quality(big)
console.log(`with ${big.length} tools (look-alike copies): recall@5 ${qb.recall5.toFixed(3)} (a copy of the right tool counts as a miss)  MRR ${qb.mrr.toFixed(3)}`)
const l = latency(big, 20)
console.log(`ranking latency, ${big.length} tools: wall p50 ${(l.p50 * 1000).toFixed(1)} µs  p99 ${(l.p99 * 1000).toFixed(1)} µs  max ${(l.max * 1000).toFixed(1)} µs over ${l.n} rankings; index build ${l.build.toFixed(1)} ms (once per catalog)`)
console.log(`ranking CPU time per call (excludes time preempted by other processes): p50 ${(l.cpuP50 * 1000).toFixed(1)} µs  p99 ${(l.cpuP99 * 1000).toFixed(1)} µs; load average ${(await Bun.file('/proc/loadavg').text()).split(' ').slice(0, 3).join(' ')}`)
