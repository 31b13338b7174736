/**
 * The run service contract (DESIGN §12): every surface turns its configuration into an AgentSpec and asks
 * `k.runs`; the service records the run, executes it (sync, SSE, started, or queued), keeps its event log for
 * Last-Event-ID resume, cancels it, gates and debits billing, publishes run.completed / run.failed, and
 * recovers it after a restart. Surfaces never re-implement any of this.
 */
import type { AgentSpec, RunEvent, RunResult, ToolCallSummary } from '../agent/types'
import type { RunInput } from '../agent/run'
import type { Logger } from '../log'
import type { RunListQuery } from './store'

export type { RunInput } from '../agent/run'

/** Which surface started a run. */
export type RunSource = 'endpoint' | 'bot' | 'chat' | 'workflow' | 'schedule' | 'task' | 'openai' | 'mcp'
export const RUN_SOURCES: RunSource[] = ['endpoint', 'bot', 'chat', 'workflow', 'schedule', 'task', 'openai', 'mcp']

/** How the run was asked for: `test` runs are recorded with status `test` (dashboard tries). */
export type RunMode = 'sync' | 'stream' | 'async' | 'test'
export type RunStatus = 'queued' | 'running' | 'success' | 'error' | 'cancelled' | 'test'

/** What a dropped SSE client does to its run: stop it (default) or let it finish (re-join at /api/runs/:id/events). */
export type OnDisconnect = 'cancel' | 'continue'

/** Billing of one run (one gate, one reservation, one debit path for every surface). */
export interface RunBilling {
  /**
   * Whether the LLM cost is debited from the owner's wallet. Default: the run uses the platform key
   * (`spec.apiKey` empty and provider not `custom`). Bots on `plan_quota` pass false.
   */
  chargeLlm?: boolean
  /**
   * A spending cap besides the wallet (a bot's `spending_cap_cents`): refused (402 `spending_cap`) when
   * `spent()` plus what concurrent runs of the same `key` have reserved reaches `limitMicro`.
   */
  cap?: { key: string; limitMicro: number; spent: () => number }
  /** Ledger reason of the debit (default `<source> run`). */
  reason?: string
  /** Ledger reference of the debit (default `{ type: 'run', id: <run id> }`). */
  ref?: { type: string; id: string }
}

export interface RunRequest {
  source: RunSource
  /** The endpoint / bot / conversation / workflow... id; null for surfaces without one. */
  sourceId: string | null
  ownerId: string
  workspaceId: string | null
  /** Built by the surface (system prompt, provider, model, key, tools, limits). */
  spec: AgentSpec
  input: RunInput
  /** Who asked (client IP, `dashboard`, a user id); stored on the run. */
  caller?: string | null
  /** Default `sync` for execute(), `stream` for stream()/start(), `async` for enqueue(). */
  mode?: RunMode
  /** Surface-specific JSON stored with the run (and given back to `registerSource().resume`). */
  meta?: Record<string, unknown>
  /**
   * Ids that name the run in its surface (`endpoint_id`, `bot_id`, `conversation_id`): added to the
   * `run.started` stream event and to the `run.completed` / `run.failed` domain events.
   */
  refs?: Record<string, string>
  /** A flat price debited from the owner's wallet when the run succeeds (endpoints' price_per_run_cents). */
  pricePerRunCents?: number
  billing?: RunBilling
  /** SSE runs only: what a client that goes away does to the run. Default `cancel`. */
  onDisconnect?: OnDisconnect
  /** The logger of whatever started the run (a request's, with its request_id); default the kernel's. */
  log?: Logger
  /** An http(s) URL told about the finished run (async endpoints); delivery belongs to the surface. */
  callbackUrl?: string | null
  /**
   * Runs INSIDE the run's final transaction, after the run row, its events and its debit are written:
   * the surface writes what must commit together with the outcome (a bot's reply, history and events).
   * Throwing rolls all of it back, and the run's promise rejects with the error.
   */
  onFinish?: (run: RunView, result: RunResult) => void
}

/** A run as stored (the service's view; surfaces shape their own API answers from it). */
export interface RunView {
  id: string
  source: RunSource
  source_id: string | null
  owner_id: string
  workspace_id: string | null
  mode: RunMode
  status: RunStatus
  /** The spec's model (null for runs recorded before migration 0015). */
  model: string | null
  input: string
  /** The text, or JSON text when `output_parsed` is 1. */
  output: string | null
  output_parsed: number
  raw_output: string | null
  /** JSON text of ToolCallSummary[]. */
  tool_calls: string
  tokens_input: number
  tokens_output: number
  iterations: number
  /** LLM cost + price per run, integer micro-cents. */
  cost_micro: number
  /** What the owner's wallet paid, integer micro-cents. */
  charged_micro: number
  latency_ms: number
  caller: string | null
  error: string | null
  error_code: string | null
  error_status: number | null
  callback_url: string | null
  callback_status: 'pending' | 'delivered' | 'failed' | null
  callback_attempts: number
  callback_last_status: number | null
  /** JSON text of RunRequest.meta. */
  meta: string
  created_at: string
  started_at: string | null
  finished_at: string | null
}

/** A failure as the runtime reports it (also what execute() returns when `ok` is false). */
export interface RunFailure { message: string; code: string; status: number }

/** What execute() resolves to once the run is recorded. */
export interface RunOutcome {
  run: RunView
  result: RunResult
  ok: boolean
  /** Set when `ok` is false. */
  error?: RunFailure
}

/** A recorded event of a run: its seq is the SSE id (Last-Event-ID). */
export interface RecordedEvent { seq: number; type: string; data: { type: string; [k: string]: unknown } }

/** How a surface rebuilds a queued run's request after a restart (its spec holds live objects: tools, keys). */
export interface RunSourceHandler {
  /** The request to run `run` with, or null when its surface object is gone (the run then fails `interrupted`). */
  resume(run: RunView): RunRequest | null
}

export interface StartedRun {
  run: RunView
  /**
   * The run's events, live (run.started first, run.completed or run.failed last). Closing the iterator early
   * (`return()`) cancels the run when `onDisconnect` is `cancel`; with `continue` the run goes on, recorded.
   */
  events: AsyncIterable<RunEvent>
}

export interface RunService {
  /** Runs to the end and records it (mode `sync` or `test`). Refusals before any work (402) throw ApiError. */
  execute(req: RunRequest, opts?: { signal?: AbortSignal }): Promise<RunOutcome>
  /** The SSE response of DESIGN §6 for a recorded, re-joinable run; the request's end applies `onDisconnect`. */
  stream(req: RunRequest, opts: { request: Request }): Promise<Response>
  /** Records and starts a run (mode `stream` unless given); the caller consumes its events. */
  start(req: RunRequest): Promise<StartedRun>
  /** Queues a run on the bounded pool (mode `async`); 429 `queue_full` when the queue is full. */
  enqueue(req: RunRequest): Promise<RunView>
  /** How queued runs of `source` are rebuilt after a restart; call from the domain's register(k). */
  registerSource(source: RunSource, handler: RunSourceHandler): void
  get(id: string): RunView | null
  /** Newest first. */
  list(source: RunSource, sourceId: string, limit: number): RunView[]
  /** Newest first across sources (GET /api/runs). */
  page(q: RunListQuery): RunView[]
  /**
   * Calls `fn` (synchronously, keep it cheap) with a run's row whenever a run is created or changes status.
   * Returns the unsubscribe. Nothing is done per run while nobody watches.
   */
  watch(fn: (run: RunView) => void): () => void
  /**
   * Derived data that follows finished runs (the /v1 usage rollup): `fn` gets each finished run's row and its
   * `refs` once, in a microtask after the code that wrote it (as bus listeners). Returns the unsubscribe.
   */
  onFinished(fn: FinishedListener): () => void
  /**
   * Stops a queued or running run; it ends `cancelled` (a running run's upstream LLM request is aborted).
   * Returns the run as recorded afterwards, or null when unknown. A finished run is returned unchanged.
   */
  cancel(id: string, reason?: RunFailure): Promise<RunView | null>
  /** Stops every unfinished run of one surface object (an endpoint or bot being deleted). */
  cancelSource(source: RunSource, sourceId: string, reason: RunFailure): void
  /** Recorded events after `afterSeq`, then live until the terminal event (or `signal`). */
  events(id: string, afterSeq: number, signal?: AbortSignal): AsyncIterable<RecordedEvent>
  /** Recorded events after `afterSeq`, without waiting. */
  eventsAfter(id: string, afterSeq: number): RecordedEvent[]
  /** The last recorded event's seq (0 when none). */
  lastSeq(id: string): number
  /** Finished runs whose callback_url is still to be told (the surface delivers). */
  pendingCallbacks(): RunView[]
  /** Records a callback delivery attempt's state on the run. */
  setCallback(id: string, status: 'pending' | 'delivered' | 'failed', attempts: number, lastStatus: number | null): void
  /** Queue depth and running count (metrics, 429 decisions). */
  stats(): { queued: number; running: number }
}

export const isFinished = (status: RunStatus) => status !== 'queued' && status !== 'running'
/** A finished run as written, and the ids its surface attached (`refs`: endpoint_id, bot_id, task_id...). */
export type FinishedListener = (run: RunView, refs: Record<string, string>) => void

export const isTerminalEvent = (type: string) => type === 'run.completed' || type === 'run.failed'

export type { ToolCallSummary }
