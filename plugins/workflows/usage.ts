import type { Kernel } from '../../src/kernel'
import { eventsStore } from './store'

/** Tokens and cost of an execution's llm calls, from its recorded `usage` events (cumulative per model run). */
export function executionUsage(k: Kernel, execId: string): { tokens: number; costCents: number } {
  const perRun = new Map<string, { tokens: number; cost: number }>()
  for (let after = 0; ;) {
    const rows = eventsStore(k.db).after(execId, after)
    for (const r of rows) {
      after = r.seq
      if (r.type !== 'usage') continue
      const e = JSON.parse(r.data) as { run_id?: string; tokens_input?: number; tokens_output?: number; cost_cents?: number }
      perRun.set(e.run_id ?? String(r.seq), { tokens: (e.tokens_input ?? 0) + (e.tokens_output ?? 0), cost: e.cost_cents ?? 0 })
    }
    if (rows.length < 500) break
  }
  let tokens = 0
  let costCents = 0
  for (const u of perRun.values()) { tokens += u.tokens; costCents += u.cost }
  return { tokens, costCents }
}
