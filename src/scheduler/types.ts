/** What a schedule fires on: a fixed interval from an anchor, or a cron pattern in an IANA zone. */
export type OverlapPolicy = 'skip' | 'buffer_one' | 'buffer_all' | 'cancel_other' | 'allow_all'
export type CatchupPolicy = 'none' | 'latest' | 'all'
export const OVERLAP_POLICIES: OverlapPolicy[] = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'allow_all']
export const CATCHUP_POLICIES: CatchupPolicy[] = ['none', 'latest', 'all']

export interface ScheduleSpec {
  type: 'interval' | 'cron'
  intervalMs: number | null
  cron: string | null
  timezone: string
  /** Epoch ms; interval slots are counted from here (or from when the schedule was made). */
  startAt: number | null
  endAt: number | null
  jitterMs: number
  overlap: OverlapPolicy
  catchup: CatchupPolicy
  catchupWindowMs: number | null
  pauseAfterFailures: number | null
}

export type FireKind = 'scheduled' | 'catchup' | 'manual'
export type FireStatus = 'buffered' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'interrupted'

/** Everything a handler needs to run one fire. */
export interface FireContext {
  scheduleId: string
  name: string
  targetId: string | null
  ownerId: string | null
  slot: number
  kind: FireKind
  input: unknown
  /** The lease's fencing token the fire started under. */
  token: number
  signal: AbortSignal
}

/** `interrupted`: the process is stopping with the work unfinished (recorded interrupted, no failure counted). */
export interface FireOutcome { ok: boolean; error?: string | null; result?: unknown; interrupted?: boolean }

/** Told inside the scheduler's transaction, so what they write (events) commits with the change. */
export interface ScheduleHooks {
  missed?(s: ScheduleRowLike, count: number, lastSlot: number): void
  failing?(s: ScheduleRowLike, consecutive: number, paused: boolean, error: string | null): void
  /** A fire is recorded as skipped or cancelled by the overlap policy, or skipped because `refuse` said why. */
  skipped?(s: ScheduleRowLike, slot: number, reason: 'overlap' | 'cancelled' | 'refused'): void
}

export interface Handler extends ScheduleHooks {
  run(ctx: FireContext): Promise<FireOutcome>
  /**
   * Asked (inside the firing transaction) before a fire starts: a reason not to run it now (a spent budget),
   * or null. A refused fire is recorded as skipped with that reason and counted in skipped_count.
   */
  refuse?(s: ScheduleRowLike, kind: FireKind): string | null
  /**
   * At start-up, for a fire the stopped process left running: a promise of its outcome when its work goes on
   * (a durable execution the engine resumes), or null to close it as interrupted. The fire then stays
   * running (the overlap policy sees it) and its outcome is recorded like any other (failure streak, hooks).
   */
  resume?(ctx: FireContext): Promise<FireOutcome> | null
}

export interface ScheduleRowLike { id: string; name: string; handler: string; target_id: string | null; owner_id: string | null }
