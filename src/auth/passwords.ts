/** argon2id via Bun.password. */
export const hashPassword = (plain: string) => Bun.password.hash(plain, { algorithm: 'argon2id' })
export const verifyPassword = (plain: string, hash: string) => Bun.password.verify(plain, hash).catch(() => false)

// A hash to verify against when the email is unknown, so timing doesn't reveal which emails exist.
let dummy: Promise<string> | null = null
export const dummyHash = () => (dummy ??= hashPassword('agentbase-dummy-password'))
