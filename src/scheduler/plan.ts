import { slotsBetween } from './calendar'
import type { FireKind, OverlapPolicy, ScheduleSpec } from './types'

/** A slot is on time when it is handled within this long of its time (plus its jitter). */
export const ON_TIME_GRACE_MS = 10_000
/** Catch-up never starts more than this many missed slots at once ("all" keeps the newest). */
export const MAX_CATCHUP = 100

export interface SlotPlan { fire: Array<{ slot: number; kind: FireKind }>; missed: number; lastSlot: number | null }

/**
 * What to do with the slots from `nextSlot` up to `now`: the newest on-time slot fires normally; the
 * rest were missed (downtime, a pause, a stalled loop) and the catch-up policy decides which of them
 * still run. Slots older than the catch-up window never run. Everything not fired is counted as missed.
 */
export function planSlots(spec: ScheduleSpec, nextSlot: number, now: number, anchorMs: number): SlotPlan {
  const keep = spec.catchup === 'all' ? MAX_CATCHUP : 1
  const { slots, total } = slotsBetween(spec, nextSlot - 1, now, anchorMs, keep)
  if (total === 0) return { fire: [], missed: 0, lastSlot: null }
  const onTime = (slot: number) => now - slot <= ON_TIME_GRACE_MS + spec.jitterMs
  const inWindow = (slot: number) => spec.catchupWindowMs === null || now - slot <= spec.catchupWindowMs
  const latest = slots[slots.length - 1]
  const fire: SlotPlan['fire'] = []
  if (spec.catchup === 'none') {
    if (onTime(latest)) fire.push({ slot: latest, kind: 'scheduled' })
  } else if (spec.catchup === 'latest') {
    if (onTime(latest)) fire.push({ slot: latest, kind: 'scheduled' })
    else if (inWindow(latest)) fire.push({ slot: latest, kind: 'catchup' })
  } else {
    for (const s of slots) {
      if (onTime(s) && s === latest) fire.push({ slot: s, kind: 'scheduled' })
      else if (inWindow(s)) fire.push({ slot: s, kind: 'catchup' })
    }
  }
  return { fire, missed: total - fire.length, lastSlot: latest }
}

export type OverlapAction = 'start' | 'buffer' | 'skip' | 'cancel_and_start'

/** The overlap policy applied to a new fire, given the schedule's running and queued fires. */
export function overlapAction(policy: OverlapPolicy, running: number, buffered: number): OverlapAction {
  if (running === 0 && buffered === 0) return 'start'
  switch (policy) {
    case 'allow_all': return 'start'
    case 'skip': return running > 0 ? 'skip' : 'start'
    case 'buffer_one': return buffered >= 1 ? 'skip' : running > 0 ? 'buffer' : 'start'
    case 'buffer_all': return 'buffer'
    case 'cancel_other': return 'cancel_and_start'
  }
}
