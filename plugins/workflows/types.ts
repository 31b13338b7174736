/** The workflow model (issue 13): steps, retry policies, executions. Stored as JSON in workflow_versions. */

export const STEP_TYPES = ['tool', 'llm', 'condition', 'transform', 'delay', 'loop'] as const
export type StepType = typeof STEP_TYPES[number]
export const TRIGGER_TYPES = ['manual', 'schedule', 'webhook', 'event'] as const
export type TriggerType = typeof TRIGGER_TYPES[number]
export const WORKFLOW_STATUSES = ['draft', 'active', 'paused', 'archived'] as const
export type WorkflowStatus = typeof WORKFLOW_STATUSES[number]

export interface RetryPolicy {
  max_attempts?: number
  backoff?: 'constant' | 'exponential'
  initial_ms?: number
  max_ms?: number
  /** true = full jitter band of ±50 %; a number 0..1 = that fraction. */
  jitter?: boolean | number
  /** CEL over `error` (string) and `output`; retry only when true. */
  retry_if?: string
}

export interface Step {
  id: string
  name?: string
  type: StepType
  retry?: RetryPolicy
  timeout_ms?: number
  continue_on_error?: boolean
  output_key?: string
  /** Step id to go to after this one (default: the next in the list; "end" finishes). */
  next?: string
  // tool
  tool?: string
  parameters?: Record<string, unknown>
  // llm
  prompt?: string
  system_prompt?: string
  provider?: string
  model?: string
  output_schema?: Record<string, unknown>
  temperature?: number
  max_tokens?: number
  // condition
  condition?: unknown
  on_true?: string
  on_false?: string
  // transform (and condition as CEL)
  expression?: string
  template?: unknown
  // delay
  duration_ms?: number
  duration?: string
  until?: string
  // loop
  items?: unknown
  max_items?: number
  step?: Step
}

export const END = 'end'
export const MAX_STEPS = 100
export const MAX_LOOP_ITEMS = 1000
export const DEFAULT_LOOP_ITEMS = 100
export const MAX_TIMEOUT_MS = 600_000
export const DEFAULT_TIMEOUT_MS = 120_000
export const MAX_DELAY_MS = 30 * 24 * 3600_000
/** Steps entered per execution (condition jumps may loop back). */
export const MAX_POSITIONS = 1000

export type ExecutionStatus = 'queued' | 'running' | 'waiting' | 'success' | 'failed' | 'cancelled'
export const UNFINISHED: ExecutionStatus[] = ['queued', 'running', 'waiting']

/** What an execution carries between steps (persisted in workflow_executions.state). */
export interface ExecState {
  /** Step outputs by output_key (or step id): the `steps` root. */
  steps: Record<string, unknown>
  /** Times each step has been entered, for unique idempotency keys when a jump revisits a step. */
  visits: Record<string, number>
  /** The last step output, the execution's output when it ends. */
  last?: unknown
}
