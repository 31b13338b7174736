/** SQL for the channel inbox (prepared statements). */
import type { Db } from '../../src/db/open'
import type { InboundMessage } from './types'
import { perDb } from '../../src/db/per-db'

export type InboxStatus = 'pending' | 'processing' | 'done' | 'failed'

export interface InboxRow {
  id: number
  bot_id: string
  platform: string
  dedupe_key: string
  conversation_key: string
  payload: string
  status: InboxStatus
  attempts: number
  received_at: string
  started_at: string | null
  finished_at: string | null
  conversation_id: string | null
  reply: string | null
  replied_at: string | null
  error: string | null
  /** Messages of the reply the platform confirmed, and the one in flight (marked before its call). */
  sent_parts: number
  sending_part: number | null
  platform_ids: string | null
}

export interface NewInboxItem { botId: string; platform: string; message: InboundMessage }

function inboxStoreOf(db: Db) {
  return {
    /** Inserts unless (bot, dedupe key) was seen; returns the new id, or null for a duplicate. */
    insert(item: NewInboxItem, receivedAt: string): number | null {
      const row = db.query<{ id: number }, [string, string, string, string, string, string]>(
        `INSERT INTO channel_inbox (bot_id, platform, dedupe_key, conversation_key, payload, received_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (bot_id, dedupe_key) DO NOTHING RETURNING id`,
      ).get(item.botId, item.platform, item.message.dedupeKey, item.message.chatId, JSON.stringify(item.message), receivedAt)
      return row?.id ?? null
    },
    get: (id: number) => db.query<InboxRow, [number]>('SELECT * FROM channel_inbox WHERE id = ?').get(id),
    /** Everything not finished, in arrival order (restart recovery). */
    open: () => db.query<InboxRow, []>("SELECT * FROM channel_inbox WHERE status IN ('pending', 'processing') ORDER BY id").all(),
    start: (id: number, at: string) =>
      db.query("UPDATE channel_inbox SET status = 'processing', attempts = attempts + 1, started_at = ? WHERE id = ?").run(at, id),
    /** Stores the reply and marks its first message in flight (one write: the mark costs no extra commit). */
    saveReply: (id: number, conversationId: string | null, reply: string[]) =>
      db.query('UPDATE channel_inbox SET conversation_id = ?, reply = ?, sent_parts = 0, sending_part = 0 WHERE id = ?').run(conversationId, JSON.stringify(reply), id),
    /** Marks message `part` in flight, before its call: a crash from here on may leave it delivered but unrecorded. */
    markSending: (id: number, part: number) => db.query('UPDATE channel_inbox SET sending_part = ? WHERE id = ?').run(part, id),
    /** Message `part` was confirmed by the platform (its id recorded); `next` is marked in flight in the same write. */
    partSent: (id: number, part: number, platformId: string | null, next: number | null) =>
      db.query(`UPDATE channel_inbox SET sent_parts = ?1 + 1, sending_part = ?2,
                platform_ids = json_insert(coalesce(platform_ids, '[]'), '$[#]', ?3) WHERE id = ?4 AND sent_parts = ?1`).run(part, next, platformId, id),
    finish: (id: number, status: 'done' | 'failed', at: string, error: string | null, replied: boolean) =>
      db.query('UPDATE channel_inbox SET status = ?1, finished_at = ?2, error = ?3, replied_at = CASE WHEN ?4 THEN ?2 ELSE replied_at END WHERE id = ?5')
        .run(status, at, error, replied ? 1 : 0, id),
    /** Finished rows older than `before` (the dedupe memory is bounded by this retention). */
    purge: (before: string) => db.query('DELETE FROM channel_inbox WHERE finished_at IS NOT NULL AND finished_at < ?').run(before).changes,
    counts: () => db.query<{ status: InboxStatus; n: number }, []>('SELECT status, count(*) AS n FROM channel_inbox GROUP BY status').all(),
  }
}
export const inboxStore = perDb(inboxStoreOf)
