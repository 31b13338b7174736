const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Random URL-safe string from a CSPRNG (64-letter alphabet, so no modulo bias). */
export function randomString(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  let out = ''
  for (const b of bytes) out += alphabet[b & 63]
  return out
}

/** Prefixed id per DESIGN §4, e.g. newId('usr') -> usr_Xk2... (20 chars body). */
export const newId = (prefix: string) => `${prefix}_${randomString(20)}`
