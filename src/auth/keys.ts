import { timingSafeEqual } from 'node:crypto'
import { randomString } from '../db/ids'

/** API keys (DESIGN §4): shown once, stored as SHA-256 hex with a short visible prefix for listing. */
export function mintKey(prefix: 'ab_pat_' | 'aek_' | 'bot_' | 'whsec_'): { key: string; hash: string; display: string } {
  const key = prefix + randomString(40)
  return { key, hash: hashKey(key), display: key.slice(0, prefix.length + 6) }
}

/** SHA-256 hex (Bun's one-shot hasher: several times cheaper than node:crypto on the auth hot path). */
export const hashKey = (key: string) => Bun.SHA256.hash(key, 'hex') as string

/** Constant-time string comparison (lengths leak, contents don't). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a), bb = Buffer.from(b)
  if (ab.length !== bb.length) return false
  return timingSafeEqual(ab, bb)
}
