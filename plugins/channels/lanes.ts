/**
 * Per-conversation lanes over a bounded pool: jobs of one lane run strictly one at a time in the order
 * they were pushed; different lanes run concurrently, at most `limit` at once. A lane that finishes a
 * job goes to the back of the ready queue, so a chatty conversation cannot starve the others.
 * Jobs marked `durable` wait until the lanes are started (the worker); others run at once (custom channel).
 * Jobs of one `group` (the bots' owner) hold at most `groupLimit` of the pool: one tenant's slow model cannot
 * take every slot and stall everyone else's conversations.
 */
export interface LaneJob {
  key: string
  /** Inbox id for durable jobs (dedupes pushes from recovery and from the committer). */
  id?: number
  durable: boolean
  /** Fair-share group (the owner): at most `groupLimit` of a group's jobs run at once. */
  group?: string
  run: () => Promise<void>
}

export class Lanes {
  private lanes = new Map<string, LaneJob[]>()
  private busy = new Set<string>()
  private ready: string[] = []
  private known = new Set<number>()
  private groupRunning = new Map<string, number>()
  private idleWaiters: Array<() => void> = []
  running = 0
  started = false
  /** Jobs pushed and not finished (running included). */
  size = 0

  constructor(public limit: number, private onError: (err: unknown, job: LaneJob) => void, public groupLimit = Infinity) {}

  get queued() { return this.size - this.running }
  has(id: number) { return this.known.has(id) }

  push(job: LaneJob) {
    if (job.id !== undefined) {
      if (this.known.has(job.id)) return
      this.known.add(job.id)
    }
    let lane = this.lanes.get(job.key)
    if (!lane) this.lanes.set(job.key, (lane = []))
    lane.push(job)
    this.size++
    if (lane.length === 1 && !this.busy.has(job.key)) this.ready.push(job.key)
    this.pump()
  }

  /** Durable jobs may have been pushed out of order (recovery after live deliveries): order each lane by id. */
  sortDurable() {
    for (const lane of this.lanes.values()) {
      if (lane.length > 1 && lane.every((j) => j.durable)) lane.sort((a, b) => (a.id ?? 0) - (b.id ?? 0))
    }
  }

  start() { this.started = true; this.pump() }
  stop() { this.started = false }

  /** Resolves when nothing runs (or after `timeoutMs`). */
  idle(timeoutMs = Infinity): Promise<void> {
    if (this.running === 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve)
      if (Number.isFinite(timeoutMs)) setTimeout(resolve, timeoutMs).unref?.()
    })
  }

  private pump() {
    for (let i = 0; i < this.ready.length && this.running < this.limit;) {
      const key = this.ready[i]
      const head = this.lanes.get(key)?.[0]
      if (!head) { this.ready.splice(i, 1); continue }
      if (head.durable && !this.started) { i++; continue }
      if (head.group !== undefined && (this.groupRunning.get(head.group) ?? 0) >= this.groupLimit) { i++; continue }
      this.ready.splice(i, 1)
      this.runHead(key, head)
    }
  }

  private async runHead(key: string, job: LaneJob) {
    this.busy.add(key)
    this.running++
    if (job.group !== undefined) this.groupRunning.set(job.group, (this.groupRunning.get(job.group) ?? 0) + 1)
    try {
      await job.run()
    } catch (err) {
      this.onError(err, job)
    }
    const lane = this.lanes.get(key)!
    lane.shift()
    this.size--
    if (job.id !== undefined) this.known.delete(job.id)
    this.running--
    if (job.group !== undefined) {
      const left = (this.groupRunning.get(job.group) ?? 1) - 1
      if (left > 0) this.groupRunning.set(job.group, left)
      else this.groupRunning.delete(job.group)
    }
    this.busy.delete(key)
    if (lane.length) this.ready.push(key)
    else this.lanes.delete(key)
    if (this.running === 0) for (const w of this.idleWaiters.splice(0)) w()
    this.pump()
  }
}
