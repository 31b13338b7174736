/**
 * argon2id via Bun.password. Memory cost comes from AGENTBASE_PASSWORD_MEMORY_KIB (default 19 MiB with
 * 2 passes: OWASP's baseline); the parameters travel inside each hash, so changing them never breaks
 * verification of older hashes.
 */
export const DEFAULT_PASSWORD_MEMORY_KIB = 19456

export const hashPassword = (plain: string, memoryKib = DEFAULT_PASSWORD_MEMORY_KIB) =>
  Bun.password.hash(plain, { algorithm: 'argon2id', memoryCost: memoryKib, timeCost: 2 })
export const verifyPassword = (plain: string, hash: string) => Bun.password.verify(plain, hash).catch(() => false)

// A hash to verify against when the email is unknown, so timing doesn't reveal which emails exist.
const dummies = new Map<number, Promise<string>>()
export function dummyHash(memoryKib = DEFAULT_PASSWORD_MEMORY_KIB) {
  let h = dummies.get(memoryKib)
  if (!h) dummies.set(memoryKib, (h = hashPassword('agentbase-dummy-password', memoryKib)))
  return h
}
