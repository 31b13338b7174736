import { perKernel, type Kernel } from '../../src/kernel'
import type { CatalogEntry } from '../../src/tools/workspace-tools'
import { paramNames } from './ranking'

/**
 * The optional second signal of tool selection: an embeddings model (AGENTBASE_CHAT_EMBEDDINGS, an OpenAI-compatible
 * `/embeddings` API on the provider's configured base URL and platform key). Tool vectors are computed once per
 * catalog; a turn embeds only its message. Any failure leaves the ranking to BM25 alone.
 */

const TIMEOUT_MS = 5000
const BATCH = 128

export class Embedder {
  constructor(private k: Kernel, readonly provider: string, readonly model: string) {}

  /** Unit-length vectors, one per text, in order. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const cfg = this.k.config
    const base = cfg.llmBaseUrls[this.provider as keyof typeof cfg.llmBaseUrls]
    const key = this.provider in cfg.llmKeys ? cfg.llmKeys[this.provider as keyof typeof cfg.llmKeys] : null
    const out: Float32Array[] = []
    for (let i = 0; i < texts.length; i += BATCH) {
      const res = await fetch(`${base}/embeddings`, {
        method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ model: this.model, input: texts.slice(i, i + BATCH) }),
      })
      if (!res.ok) throw new Error(`embeddings: HTTP ${res.status}`)
      const json = await res.json() as { data?: Array<{ embedding: number[]; index?: number }> }
      const data = [...(json.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      if (data.length !== Math.min(BATCH, texts.length - i)) throw new Error('embeddings: wrong number of vectors')
      for (const d of data) out.push(unit(d.embedding))
    }
    return out
  }
}

function unit(v: number[]): Float32Array {
  const a = Float32Array.from(v)
  let n = 0
  for (const x of a) n += x * x
  n = Math.sqrt(n) || 1
  for (let i = 0; i < a.length; i++) a[i] /= n
  return a
}

export const cosine = (a: Float32Array, b: Float32Array) => {
  let s = 0
  for (let i = 0; i < Math.min(a.length, b.length); i++) s += a[i] * b[i]
  return s
}

export const embedder = perKernel((k): Embedder | null => {
  const c = k.config.chatEmbeddings
  return c ? new Embedder(k, c.provider, c.model) : null
})

/** Tool vectors per catalog array (rebuilt when the catalog changes, like the BM25 index). */
const vectors = new WeakMap<object, Promise<Float32Array[]>>()
export function toolVectors(e: Embedder, catalog: CatalogEntry[]): Promise<Float32Array[]> {
  let v = vectors.get(catalog)
  if (!v) {
    v = e.embed(catalog.map((t) => `${t.name.replace(/_/g, ' ')}: ${t.description} (${paramNames(t.inputSchema).join(', ')})`))
    v.catch(() => vectors.delete(catalog)) // a failure is retried on the next turn
    vectors.set(catalog, v)
  }
  return v
}
