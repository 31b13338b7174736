const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

// CSPRNG bytes drawn 4 KB at a time: one getRandomValues call per ~200 ids instead of one per id.
let pool = new Uint8Array(0)
let poolAt = 0

/** Random URL-safe string from a CSPRNG (64-letter alphabet, so no modulo bias). */
export function randomString(length: number): string {
  if (poolAt + length > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(Math.max(4096, length)))
    poolAt = 0
  }
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[pool[poolAt++] & 63]
  return out
}

/** Prefixed id per DESIGN §4, e.g. newId('usr') -> usr_Xk2... (20 chars body). */
export const newId = (prefix: string) => `${prefix}_${randomString(20)}`

/** The URL-safe alphabet in ASCII order, so that encoded numbers sort as text (BINARY collation). */
export const SORTABLE = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'

/** 8 chars encoding a non-negative integer (up to 2^48) that sort as the number does. */
export function sortableHead(n: number): string {
  let t = Math.max(0, Math.floor(n))
  let head = ''
  for (let i = 0; i < 8; i++) { head = SORTABLE[t % 64] + head; t = Math.floor(t / 64) }
  return head
}

/**
 * A prefixed id of the same shape as newId (20 URL-safe chars) whose first 8 chars encode `nowMs` (sortable),
 * followed by 12 CSPRNG chars (72 bits). For rows inserted on hot paths: consecutive ids land in the same
 * B-tree pages of their primary key, so a batch dirties a few pages instead of one random page per row.
 * (A departure from DESIGN §4's fully random body: such ids reveal their creation time.)
 */
let lastMs = -1
let lastHead = ''
export function timeOrderedId(prefix: string, nowMs: number): string {
  const ms = Math.max(0, Math.floor(nowMs))
  if (ms !== lastMs) {
    lastMs = ms
    lastHead = sortableHead(ms)
  }
  return `${prefix}_${lastHead}${randomString(12)}`
}
