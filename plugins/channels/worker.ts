import { perKernel, type Kernel } from '../../src/kernel'
import { nowIso, iso } from '../../src/clock'
import { handleIncoming } from '../bots/service'
import { ApiError } from '../../src/http/errors'
import { nextDelay } from '../../src/http/retry'
import { loadBot } from '../bots/service'
import { cachedBot } from './bot-cache'
import { PlatformError } from './api'
import { GroupCommit } from '../../src/db/group-commit'

/** Deliveries arriving within this window (or until MAX_BATCH) share one commit before their acks. */
export const GATHER_MS = 1
export const MAX_BATCH = 512
import { Lanes } from './lanes'
import { inboxStore, type NewInboxItem } from './store'
import { channels } from './service'
import { splitText, type Channel, type ChannelBot, type InboundMessage, type Platform } from './types'

/** Attempts at answering one inbox item (a crash mid-answer counts as one) before it is marked failed. */
export const MAX_ATTEMPTS = 5
/** Tries at sending one reply to the platform (429/5xx/network), with backoff. */
export const SEND_TRIES = 4
/** Finished inbox rows are kept this long: the window in which a platform retry is recognised. */
export const RETENTION_MS = 7 * 24 * 3600_000

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export const laneKey = (botId: string, chatId: string) => `${botId}\u0000${chatId}`

/**
 * The channels runtime of one kernel: the group committer in front of the inbox, and the lanes that
 * answer inbox items (one conversation at a time, in arrival order; a bounded pool across conversations).
 */
export class ChannelRuntime {
  readonly committer: GroupCommit
  readonly lanes: Lanes
  private abort = new AbortController()
  private purgeTimer: ReturnType<typeof setInterval> | null = null
  /** Backoff base for reply retries (tests shorten it). */
  sendBackoffMs = 500

  constructor(private k: Kernel) {
    this.lanes = new Lanes(k.config.channelConcurrency, (err, job) =>
      k.log.error('channel job failed', { lane_job: job.id ?? 'sync', error: (err as Error)?.message }), k.config.outboundLimits.perOwner)
    this.committer = new GroupCommit(k.db, { gatherMs: GATHER_MS, maxBatch: MAX_BATCH })
  }

  /**
   * Commits verified deliveries to the inbox (group commit) and queues them on their conversation lanes.
   * Resolves after the commit with each item's inbox id, or null for a duplicate (already seen).
   */
  async enqueue(items: NewInboxItem[]): Promise<Array<number | null>> {
    const store = inboxStore(this.k.db)
    const at = nowIso(this.k.clock)
    const ids = await this.committer.run(() => items.map((it) => store.insert(it, at)))
    ids.forEach((id, i) => {
      if (id !== null) this.lanes.push({ key: laneKey(items[i].botId, items[i].message.chatId), id, durable: true, group: this.ownerOf(items[i].botId), run: () => this.process(id) })
    })
    return ids
  }

  /** The bot's owner: its fair-share group in the lanes (a deleted bot shares one group; its jobs just finish). */
  private ownerOf(botId: string): string {
    return cachedBot(this.k, botId)?.owner_id ?? ''
  }

  /** A bookkeeping write through the group commit (one fsync shared with concurrent writes). */
  private write(fn: () => unknown) {
    return this.committer.run(fn)
  }

  /** Worker start: pick up everything left pending or processing (a crash or kill), then answer in order. */
  start() {
    this.abort = new AbortController()
    for (const r of inboxStore(this.k.db).open()) {
      this.lanes.push({ key: laneKey(r.bot_id, r.conversation_key), id: r.id, durable: true, group: this.ownerOf(r.bot_id), run: () => this.process(r.id) })
    }
    this.lanes.sortDurable()
    this.lanes.start()
    this.purge()
    this.purgeTimer = setInterval(() => this.purge(), 3600_000)
    this.purgeTimer.unref?.()
  }

  /** Stops taking new items; waits up to the grace period for answers in flight, then cancels them (they stay pending). */
  async stop(graceMs = this.k.config.shutdownGraceMs) {
    this.lanes.stop()
    if (this.purgeTimer) clearInterval(this.purgeTimer)
    await this.lanes.idle(graceMs)
    this.abort.abort()
    await this.lanes.idle(2000)
  }

  /** The custom channel: runs `fn` in the conversation's lane (ordered, bounded), synchronously for the caller. */
  runInLane<T>(botId: string, chatId: string, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.lanes.push({ key: laneKey(botId, chatId), durable: false, group: this.ownerOf(botId), run: () => fn().then(resolve, reject) })
    })
  }

  private purge() {
    try {
      inboxStore(this.k.db).purge(iso(this.k.clock.now() - RETENTION_MS))
    } catch (err) {
      this.k.log.warn('inbox purge failed', { error: (err as Error).message })
    }
  }

  /** Answers one inbox item: run the bot (unless a previous attempt already stored the reply), then send. */
  async process(id: number) {
    const k = this.k
    const store = inboxStore(k.db)
    const row = store.get(id)
    if (!row || row.status === 'done' || row.status === 'failed') return
    if (row.attempts >= MAX_ATTEMPTS) {
      await this.write(() => store.finish(id, 'failed', nowIso(k.clock), `gave up after ${row.attempts} attempts`, false))
      return
    }
    const bot = loadBot(k, row.bot_id)
    if (!bot || bot.status !== 'active') {
      await this.write(() => store.finish(id, 'failed', nowIso(k.clock), bot ? `bot is ${bot.status}` : 'bot deleted', false))
      return
    }
    // Counted before the model runs: a message that kills the process every time stops after MAX_ATTEMPTS.
    await this.write(() => store.start(id, nowIso(k.clock)))
    const channel = channels[row.platform as Platform]
    const msg = JSON.parse(row.payload) as InboundMessage
    let replies: string[]
    if (row.reply) {
      replies = JSON.parse(row.reply)
    } else {
      const stopTyping = this.typing(channel, bot, msg)
      let result
      try {
        // The reply is stored on the inbox row in the transaction that records the answer (run, history, events,
        // debit): after a crash from there on, the stored reply is sent again and the agent is not re-run.
        result = await handleIncoming(k, bot.id, { chatId: msg.chatId, userId: msg.userId, userName: msg.userName, text: msg.text, platformMessageId: msg.platformMessageId }, {
          signal: this.abort.signal,
          idempotencyKey: `inbox:${row.bot_id}:${row.dedupe_key}`,
          onRecorded: (r) => store.saveReply(id, r.conversationId, r.replies),
        })
      } catch (err) {
        if (this.abort.signal.aborted) { stopTyping(); return } // shutting down: stays processing, answered after restart
        stopTyping()
        if (!(err instanceof ApiError)) {
          // Recording failed (the database refused the answer's transaction): nothing of it was kept, like a
          // crash; the item stays processing and is answered at the next start (bounded by MAX_ATTEMPTS).
          k.log.error('recording a bot answer failed; retried at the next start', { bot_id: bot.id, inbox_id: id, error: (err as Error).message })
          return
        }
        k.log.error('bot engine failed', { bot_id: bot.id, inbox_id: id, error: (err as Error).message })
        await this.write(() => store.finish(id, 'failed', nowIso(k.clock), (err as Error).message, false))
        return
      }
      stopTyping()
      replies = result.replies
    }
    // A fresh reply starts at its first message (marked in flight by saveReply); a restarted one after the last the
    // platform confirmed. The one in flight at a crash is sent again: the platforms offer no way to ask whether it
    // arrived (README: at-least-once for that one message).
    const from = row.reply ? row.sent_parts : 0
    const marked = row.reply ? row.sending_part === from : true
    // The message in flight at the crash: since when it may have been posted (the start of the attempt that stopped).
    const inFlightSince = row.reply && row.sending_part !== null ? Date.parse(row.started_at ?? row.received_at) : null
    const { error, settle } = await this.send(id, channel, bot, msg, replies, from, marked, inFlightSince)
    await this.write(() => { settle(); store.finish(id, error ? 'failed' : 'done', nowIso(k.clock), error, !error) })
    if (error) k.log.warn('reply not delivered', { bot_id: bot.id, inbox_id: id, platform: row.platform, error })
  }

  /**
   * Sends the reply's messages from `from` on, in order. Each is marked in flight before its call and recorded with
   * the platform's id once confirmed (in the same write as marking the next); the last one's record is returned as
   * `settle`, to commit with the row's finish.
   */
  private async send(id: number, channel: Channel, bot: ChannelBot, msg: InboundMessage, replies: string[], from: number, marked: boolean, inFlightSince: number | null): Promise<{ error: string | null; settle: () => void }> {
    const store = inboxStore(this.k.db)
    const parts = replies.flatMap((r) => splitText(r, channel.maxText).map((text, i) => ({ text, first: i === 0 })))
    let settle = () => {}
    for (let i = from; i < parts.length; i++) {
      if (!marked) await this.write(() => store.markSending(id, i))
      // In flight when the process stopped: ask the platform where it can tell; otherwise send again (at least once).
      const found = i === from && inFlightSince !== null ? await this.findSent(channel, bot, msg, parts[i].text, inFlightSince) : false
      const sent = typeof found === 'string' ? { platformId: found } : await this.sendOne(channel, bot, msg, parts[i])
      if ('error' in sent) return { error: sent.error, settle }
      const { platformId } = sent
      const part = i
      if (i === parts.length - 1) settle = () => store.partSent(id, part, platformId, null)
      else {
        await this.write(() => store.partSent(id, part, platformId, part + 1))
        marked = true
      }
    }
    return { error: null, settle }
  }

  /** One message; retries 429/5xx/network with backoff (Retry-After when given). */
  private async sendOne(channel: Channel, bot: ChannelBot, msg: InboundMessage, part: { text: string; first: boolean }): Promise<{ platformId: string | null } | { error: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { platformId: await channel.send(this.k, bot, msg, part.text, part.first) }
      } catch (err) {
        const retryable = err instanceof PlatformError ? err.retryable : false
        if (!retryable || attempt >= SEND_TRIES || this.abort.signal.aborted) return { error: (err as Error).message }
        await sleep(nextDelay(attempt - 1, { baseMs: this.sendBackoffMs }, (err as PlatformError).retryAfterMs))
      }
    }
  }

  /** The platform's id of a message already posted (the adapter checked), or false (surely not) / null (unknown). */
  private async findSent(channel: Channel, bot: ChannelBot, msg: InboundMessage, text: string, sinceMs: number): Promise<string | false | null> {
    const found = channel.findSent ? await channel.findSent(this.k, bot, msg, text, sinceMs).catch(() => null) : null
    if (found === null) {
      this.k.log.warn('resending a reply message that was in flight when the process stopped; it may arrive twice', { bot_id: bot.id, platform: channel.platform })
    }
    return found
  }

  /** "Typing..." at once and then periodically until stopped; failures are ignored. */
  private typing(channel: Channel, bot: ChannelBot, msg: InboundMessage): () => void {
    if (!channel.typing) return () => {}
    const fire = () => { channel.typing!(this.k, bot, msg).catch(() => {}) }
    fire()
    const timer = setInterval(fire, channel.typingEveryMs ?? 4500)
    timer.unref?.()
    return () => clearInterval(timer)
  }
}

export const runtimeOf = perKernel((k) => {
  const rt = new ChannelRuntime(k)
  return Object.assign(rt, { close: () => rt.committer.close() })
})

