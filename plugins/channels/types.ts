import type { Kernel } from '../../src/kernel'

export type Platform = 'telegram' | 'discord' | 'whatsapp' | 'slack' | 'custom'
export const PLATFORMS: Platform[] = ['telegram', 'discord', 'whatsapp', 'slack', 'custom']

/** The part of a bot a channel needs: its id, platform and decrypted platform_config. */
export interface ChannelBot {
  id: string
  platform: string
  platform_config: Record<string, unknown> | null
}

/** What a platform delivered, after verification: the exact raw body, headers and query. */
export interface Delivery {
  raw: string
  body: unknown
  headers: Headers
  query: Record<string, string | undefined>
}

/**
 * One user message, normalized. `reply` carries what the adapter needs to answer later
 * (Discord interaction token, Slack thread, WhatsApp recipient); it is stored in the inbox.
 */
export interface InboundMessage {
  /** Unique per bot for the platform's delivery (update_id, interaction id, message id, event id). */
  dedupeKey: string
  chatId: string
  userId: string
  userName?: string
  text: string
  platformMessageId?: string
  reply: Record<string, unknown>
}

/** What parse() makes of a verified delivery. */
export type Parsed =
  /** Messages to queue (may be empty: status updates, the bot's own messages, stickers). */
  | { kind: 'messages'; messages: InboundMessage[] }
  /** Answer at once without queueing anything (Discord PING, Slack url_verification). */
  | { kind: 'respond'; status?: number; body: unknown }

export interface RegisterResult { warnings: string[]; manual_setup_required: boolean }

/** One messaging platform (DESIGN §3 plugins/channels, STYLE "Adapters"). */
export interface Channel {
  platform: Platform
  /** Validates and normalizes platform_config; returns field -> problem for what is missing or wrong. */
  validateConfig(cfg: Record<string, unknown>): Record<string, string>
  /** Platform verification over the raw body. Must not touch the database. */
  verify(k: Kernel, bot: ChannelBot, d: Delivery): boolean | Promise<boolean>
  parse(k: Kernel, bot: ChannelBot, d: Delivery): Parsed
  /** The HTTP answer once the delivery's messages are committed. */
  ack(messages: InboundMessage[]): unknown
  /** The platform's message length limit: the worker splits each reply into messages of at most this many characters. */
  maxText: number
  /**
   * Sends one message of a reply (`first`: the reply's first message, which may quote the user's). Returns what the
   * platform answered to identify it (message id / ts), or null; the worker records it before sending the next one.
   */
  send(k: Kernel, bot: ChannelBot, msg: InboundMessage, text: string, first: boolean): Promise<string | null>
  /**
   * Where the platform can be asked: whether `text` was already posted as the answer to `msg` since `sinceMs` (the
   * message in flight when the process stopped). Its id when found, false when surely not, null when unknown.
   */
  findSent?(k: Kernel, bot: ChannelBot, msg: InboundMessage, text: string, sinceMs: number): Promise<string | false | null>
  /** "Typing..." while the agent works; best effort. */
  typing?(k: Kernel, bot: ChannelBot, msg: InboundMessage): Promise<void>
  /** How often typing() must be repeated to stay visible (ms). */
  typingEveryMs?: number
  register(k: Kernel, bot: ChannelBot, webhookUrl: string): Promise<RegisterResult>
  unregister(k: Kernel, bot: ChannelBot): Promise<void>
}

export const cfgStr = (cfg: Record<string, unknown> | null, key: string): string => {
  const v = cfg?.[key]
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : ''
}

/** Splits text into chunks of at most `max` characters, preferring newline, then space boundaries. */
export function splitText(text: string, max: number): string[] {
  const chars = Array.from(text) // code points: never cut a surrogate pair
  if (chars.length <= max) return [text]
  const out: string[] = []
  let rest = chars
  while (rest.length > max) {
    const window = rest.slice(0, max).join('')
    let cut = window.lastIndexOf('\n')
    if (cut < max / 2) cut = window.lastIndexOf(' ')
    const take = cut >= max / 2 ? Array.from(window.slice(0, cut)).length : max
    out.push(rest.slice(0, take).join('').trimEnd())
    rest = rest.slice(take)
    while (rest.length && (rest[0] === '\n' || rest[0] === ' ')) rest = rest.slice(1)
  }
  if (rest.length) out.push(rest.join(''))
  return out.filter((s) => s.length > 0)
}
