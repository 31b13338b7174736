import type { Step } from './types'

/**
 * Per-execution overrides of `llm` steps (a deployed agent's agent_config, plugins/agents). Kept in the
 * execution's meta, so an execution resumed after a restart applies them too; the version stays pinned.
 */
export interface LlmOverrides { instructions?: string; provider?: string; model?: string; max_tokens?: number }

const DEFAULT_SYSTEM = 'You are a step of an automated workflow. Do exactly what the prompt asks and answer with the result only.'

export function withLlmOverrides(step: Step, o: LlmOverrides | undefined): Step {
  if (o && step.type === 'loop' && step.step) return { ...step, step: withLlmOverrides(step.step, o) } // a loop's llm step too
  if (!o || step.type !== 'llm') return step
  return {
    ...step,
    ...(o.provider ? { provider: o.provider } : {}),
    ...(o.model ? { model: o.model } : {}),
    ...(o.max_tokens ? { max_tokens: o.max_tokens } : {}),
    ...(o.instructions ? { system_prompt: `${step.system_prompt ?? DEFAULT_SYSTEM}\n\n${o.instructions}` } : {}),
  }
}
