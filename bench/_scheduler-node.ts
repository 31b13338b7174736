/**
 * One scheduler process for bench/scheduler.ts: opens the data dir, fires 10,000 schedules with a handler
 * that appends `schedule slot` to a side-effect file (the outside world), and prints lateness samples.
 * `SETUP=1` creates the schedules first. Runs until killed (SIGKILL) or for RUN_MS, then stops gracefully.
 */
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createKernel } from '../src/kernel'
import { schedulerService } from '../src/scheduler/index'
import type { ScheduleSpec } from '../src/scheduler/types'

const dir = process.env.DATA_DIR!
const k = createKernel(loadConfig({ AGENTBASE_DATA_DIR: dir, LOG_LEVEL: 'error', AGENTBASE_SYNC: process.env.SYNC ?? 'normal' }))
const svc = schedulerService(k)
const s = svc.scheduler
const effects = join(dir, 'effects.log')
const lateness: number[] = []
const burst: number[] = []
let pending: string[] = []
setInterval(() => { if (pending.length) { appendFileSync(effects, pending.join('')); pending = [] } }, 20).unref()
let catchups = 0
s.handle('bench', {
  async run(ctx) {
    // Lateness of on-time fires; catch-up fires (slots missed while down or setting up) are late by design.
    if (ctx.kind === 'scheduled') { const late = Date.now() - ctx.slot; lateness.push(late); if (ctx.slot % 300_000 === 0) burst.push(late) }
    else catchups++
    // Written synchronously per fire would be the honest side effect; a 5 ms buffer keeps the disk off the
    // hot path (a SIGKILL may lose the last 20 ms of effect lines, never duplicate them).
    pending.push(`${ctx.scheduleId} ${ctx.slot}\n`)
    return { ok: true }
  },
})

const N = Number(process.env.N ?? 10_000)
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'Australia/Sydney']
const spec = (p: Partial<ScheduleSpec>): ScheduleSpec => ({
  type: 'cron', intervalMs: null, cron: null, timezone: 'UTC', startAt: null, endAt: null, jitterMs: 0,
  overlap: 'skip', catchup: 'all', catchupWindowMs: 3_600_000, pauseAfterFailures: null, ...p,
})
if (process.env.SETUP) {
  const kinds = (process.env.KINDS ?? 'second,5min,daily').split(',')
  k.db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const kind = kinds[i % kinds.length]
      const sp = kind === 'second' ? spec({ type: 'interval', intervalMs: 1000 })
        : kind === '5min' ? spec({ cron: '*/5 * * * *' })
        : spec({ cron: `${i % 60} ${i % 24} * * *`, timezone: ZONES[i % ZONES.length] })
      s.create({ name: `bench:${i}`, handler: 'bench', spec: sp })
    }
  })()
  if (process.env.SETUP_ONLY) { k.close(); process.exit(0) }
}
Bun.gc(true)
const rss0 = process.memoryUsage().rss
svc.boot()
s.tick()
s.startTimers()
const cpu0 = process.cpuUsage()
const t0 = performance.now()
console.log(JSON.stringify({ ready: true, rss0 }))
// RSS moves with the collector's cycles while firing (pages touched between collections, returned later):
// sampled every 250 ms so the report can give its range, not one reading.
const rssSamples: number[] = []
setInterval(() => rssSamples.push(process.memoryUsage().rss), 250).unref()
const RUN_MS = Number(process.env.RUN_MS ?? 20_000)
setTimeout(async () => {
  const cpu = process.cpuUsage(cpu0)
  const wall = performance.now() - t0
  rssSamples.sort((a, b) => a - b)
  const rssRange = rssSamples.length ? [rssSamples[0], rssSamples[Math.floor(rssSamples.length / 2)], rssSamples.at(-1)!] : null
  Bun.gc(true)
  const rss1 = process.memoryUsage().rss
  await s.stop(2000)
  if (pending.length) appendFileSync(effects, pending.join(''))
  lateness.sort((a, b) => a - b)
  const q = (p: number) => lateness[Math.min(lateness.length - 1, Math.floor((p / 100) * lateness.length))] ?? null
  burst.sort((a, b) => a - b)
  const bq = (p: number) => burst[Math.min(burst.length - 1, Math.floor((p / 100) * burst.length))] ?? null
  console.log(JSON.stringify({ done: true, fires: lateness.length, catchups, p50: q(50), p99: q(99), max: lateness.at(-1) ?? null,
    burstN: burst.length, burstP50: bq(50), burstP99: bq(99), burstMax: burst.at(-1) ?? null, rss0, rss1, rssRange, cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100, wallMs: wall }))
  k.close()
  process.exit(0)
}, RUN_MS)
