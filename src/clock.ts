/** Time source. Everything that reads time goes through a Clock so tests can pin and advance it. */
export interface Clock {
  now(): number // epoch milliseconds
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests control: starts at `start` and moves only when told. */
export class ManualClock implements Clock {
  constructor(private ms = Date.parse('2026-03-14T10:00:00Z')) {}
  now() { return this.ms }
  set(ms: number) { this.ms = ms }
  advance(ms: number) { this.ms += ms }
}

/** ISO 8601 UTC without milliseconds, the API's timestamp format. Remembers the last second formatted (hot paths). */
let lastSecond = NaN
let lastIso = ''
export function iso(ms: number): string {
  const second = Math.floor(ms / 1000)
  if (second !== lastSecond) {
    lastIso = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    lastSecond = second
  }
  return lastIso
}
export const nowIso = (clock: Clock) => iso(clock.now())
