/**
 * A dry run: a workflow's steps executed in memory against sample inputs, with no journal and no side
 * effects. Tools that only read (list_*, get_*, current_time, GET requests) run for real; every other tool
 * call is shown as the call that would be made. Conditions, transforms and llm steps run; delays are skipped.
 */
import type { Kernel } from '../../src/kernel'
import { buildInput, runAttempt, type AttemptContext, type Ctx } from './steps'
import { END, MAX_POSITIONS, type Step } from './types'

const READ_ONLY = /(^|_)(list|get|search|read|fetch)_|^current_time$/

function readOnly(step: Step, input: Record<string, unknown>): boolean {
  const tool = String(input.tool)
  if (tool === 'http_request') return String((input.parameters as Record<string, unknown>)?.method ?? 'GET').toUpperCase() === 'GET'
  return READ_ONLY.test(tool) || step.type !== 'tool'
}

export interface DryStep { step_id: string; type: string; input: unknown; output: unknown; simulated: boolean; error?: string }

export async function dryRun(k: Kernel, o: { ownerId: string; workspaceId: string | null; steps: Step[]; input: Record<string, unknown>; vars: Record<string, unknown> }) {
  const out: DryStep[] = []
  const state: Record<string, unknown> = {}
  const ac = new AbortController()
  const a = (key: string): AttemptContext => ({
    k, ownerId: o.ownerId, workspaceId: o.workspaceId, executionId: 'dry_run', idempotencyKey: key, signal: ac.signal, sleepUntil: async () => {},
  })
  const one = async (step: Step, ctx: Ctx, label: string): Promise<{ ok: boolean; output: unknown }> => {
    let input: Record<string, unknown> = {}
    try {
      input = buildInput(step, ctx, k.clock.now())
      if (step.type === 'delay') { out.push({ step_id: label, type: step.type, input, output: { skipped: true }, simulated: true }); return { ok: true, output: { skipped: true } } }
      if (step.type === 'tool' && !readOnly(step, input)) {
        const output = { dry_run: true, would_call: input.tool, parameters: input.parameters }
        out.push({ step_id: label, type: step.type, input, output, simulated: true })
        return { ok: true, output }
      }
      const output = await runAttempt(step, input, ctx, a(`dry_run:${label}`))
      out.push({ step_id: label, type: step.type, input, output, simulated: false })
      return { ok: true, output }
    } catch (err) {
      out.push({ step_id: label, type: step.type, input, output: null, simulated: false, error: (err as Error).message })
      return { ok: false, output: { error: (err as Error).message } }
    }
  }
  let i = 0
  let last: unknown = null
  for (let n = 0; i < o.steps.length && n < MAX_POSITIONS; n++) {
    const step = o.steps[i]
    const ctx: Ctx = { input: o.input, vars: o.vars, trigger: { type: 'dry_run' }, steps: state }
    let r: { ok: boolean; output: unknown }
    if (step.type === 'loop') {
      const items = (() => { try { return buildInput(step, ctx, k.clock.now()).items as unknown[] } catch (err) { return err as Error } })()
      if (items instanceof Error) r = { ok: false, output: { error: items.message } }
      else {
        const results: unknown[] = []
        r = { ok: true, output: results }
        for (let j = 0; j < items.length; j++) {
          const x = await one({ ...step.step!, id: step.id } as Step, { ...ctx, each: { item: items[j], index: j, count: items.length } }, `${step.id}[${j}]`)
          if (!x.ok) { r = { ok: false, output: x.output }; break }
          results.push(x.output)
        }
      }
    } else r = await one(step, ctx, step.id)
    state[step.output_key ?? step.id] = r.output
    if (!r.ok && !step.continue_on_error) return { status: 'failed' as const, steps: out, output: null, error: (r.output as { error: string }).error }
    if (step.type !== 'condition') last = r.output
    const dflt = step.next ?? o.steps[i + 1]?.id ?? END
    const next = step.type === 'condition' && r.ok ? ((r.output as { result: boolean }).result ? step.on_true : step.on_false) ?? dflt : dflt
    if (next === END) break
    i = o.steps.findIndex((s) => s.id === next)
    if (i < 0) break
  }
  return { status: 'success' as const, steps: out, output: last, error: null }
}
