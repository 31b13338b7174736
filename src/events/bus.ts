import type { Clock } from '../clock'
import { iso } from '../clock'
import type { Db } from '../db/open'
import { SORTABLE, timeOrderedId } from '../db/ids'
import type { EventData, EventType } from './catalog'

export interface DomainEvent {
  id: string
  seq: number
  type: string
  owner_id: string
  bot_account_id: string | null
  data: Record<string, unknown>
  created_at: string
}

export interface Publisher { ownerId: string; botAccountId?: string | null; key?: string }

export type EventListener = (e: DomainEvent) => void

/**
 * The in-process event bus (DESIGN §2, §11). `publish` writes the event into the `events` table
 * synchronously, so inside a caller's transaction it commits (or rolls back) with the change that
 * caused it. Listeners are told after the current synchronous work, and must read durable state from
 * the table (the outbox), never trust the in-memory copy alone.
 */
export class EventBus {
  private listeners = new Set<EventListener>()
  private seq: number
  constructor(private db: Db, private clock: Clock) {
    this.seq = db.query<{ s: number | null }, []>('SELECT max(seq) AS s FROM events').get()?.s ?? 0
  }

  /**
   * `who.key` names the occurrence (e.g. `<inbox item>:bot.message.sent`): its event id is derived from the key,
   * and publishing the same key again returns the recorded event without a second row (a retried message
   * cannot publish twice; receivers see one id).
   */
  publish<T extends EventType>(type: T, data: EventData<T>, who: Publisher): DomainEvent {
    return this.write(type, data as Record<string, unknown>, who, true)
  }

  /** Publishes without the catalog's compile-time check: for tests and benchmarks of the delivery machinery only. */
  publishUnchecked(type: string, data: Record<string, unknown>, who: Publisher): DomainEvent {
    return this.write(type, data, who, false)
  }

  private write(type: string, data: Record<string, unknown>, who: Publisher, checked: boolean): DomainEvent {
    const now = this.clock.now()
    const keyed = who.key !== undefined ? keyedEventId(who.key) : null
    if (keyed) {
      const seen = this.db.query<{ id: string; seq: number; type: string; owner_id: string; bot_account_id: string | null; data: string; created_at: string }, [string]>(
        'SELECT id, seq, type, owner_id, bot_account_id, data, created_at FROM events WHERE id = ?').get(keyed)
      if (seen) return { ...seen, data: JSON.parse(seen.data) }
    }
    const e: DomainEvent = {
      id: keyed ?? timeOrderedId('evt', now), // in insert order: the outbox index stays on a few hot pages
      seq: ++this.seq,
      type,
      owner_id: who.ownerId,
      bot_account_id: who.botAccountId ?? null,
      data,
      created_at: iso(now),
    }
    this.db.query('INSERT INTO events (id, seq, type, owner_id, bot_account_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.id, e.seq, e.type, e.owner_id, e.bot_account_id, JSON.stringify(e.data), e.created_at)
    if (!checked) Object.defineProperty(e, 'unchecked', { value: true }) // listeners that validate payloads skip it
    queueMicrotask(() => { for (const l of this.listeners) { try { l(e) } catch { /* a listener never breaks a publisher */ } } })
    return e
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }
}

/** `evt_` + 20 chars derived from a key (four 32-bit hashes, 30 bits each used): the same key, the same id. */
export function keyedEventId(key: string): string {
  let out = 'evt_'
  for (let seed = 1; seed <= 4; seed++) {
    let h = Bun.hash.murmur32v3(key, seed)
    for (let i = 0; i < 5; i++) { out += SORTABLE[h & 63]; h >>>= 6 }
  }
  return out
}
