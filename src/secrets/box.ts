import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto'

/**
 * AES-256-GCM box for secrets at rest. Ciphertext format: `v1:` + base64(nonce[12] | ciphertext | tag[16]).
 * The version prefix lets a later key rotation tell old from new.
 */
export class SecretBox {
  private readonly key: Buffer
  constructor(masterKey: Buffer) {
    this.key = createHash('sha256').update('agentbase:secrets:').update(masterKey).digest()
  }

  seal(plain: string): string {
    const nonce = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return 'v1:' + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64')
  }

  open(sealed: string): string {
    if (!sealed.startsWith('v1:')) throw new Error('unknown secret format')
    const raw = Buffer.from(sealed.slice(3), 'base64')
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(raw.length - 16))
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8')
  }

  /** Seals a JSON value; null/undefined stay null so "has_x" flags are easy. */
  sealJson(value: unknown): string | null {
    return value === undefined || value === null ? null : this.seal(JSON.stringify(value))
  }
  openJson<T = unknown>(sealed: string | null | undefined): T | null {
    return sealed ? (JSON.parse(this.open(sealed)) as T) : null
  }
}

/** Derives a purpose-bound subkey (JWT signing, key check) from the master key. */
export const deriveKey = (masterKey: Buffer, purpose: string) =>
  createHmac('sha256', masterKey).update(`agentbase:${purpose}`).digest()
