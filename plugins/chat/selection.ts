import type { Kernel } from '../../src/kernel'
import type { CatalogEntry } from '../../src/tools/workspace-tools'
import { ToolIndex, paramNames, type Ranked } from './ranking'
import { cosine, embedder, toolVectors } from './embeddings'

/** Which tools the orchestrator offers for a message: the BM25 top k plus every tool used earlier in the conversation. */

export const TOP_K = 8

/** One index per catalog array (the tool set caches catalogs, so the index is built once per catalog version). */
interface Indexed { index: ToolIndex; sources: Map<string, string> }
const indexes = new WeakMap<object, Indexed>()
function indexed(catalog: CatalogEntry[]): Indexed {
  let idx = indexes.get(catalog)
  if (!idx) {
    idx = {
      index: new ToolIndex(catalog.map((e) => ({ name: e.name, description: e.description, params: paramNames(e.inputSchema) }))),
      sources: new Map(catalog.map((e) => [e.name, e.source])),
    }
    indexes.set(catalog, idx)
  }
  return idx
}
export const indexFor = (catalog: CatalogEntry[]): ToolIndex => indexed(catalog).index

/** How many ranked tools a selection reports (explain-tools shows them; a turn uses the top k). */
export const RANKED_LIMIT = 50

export interface RankedTool extends Ranked { offered: boolean; reason: 'top_k' | 'used_before' | null; source: string; bm25?: number; semantic?: number }

export interface Selection { ranked: RankedTool[]; offered: string[]; k: number; signals: string[] }

/**
 * Ranks the catalog against the message (recent history as a weaker signal). Offered: the top k that scored,
 * then tools used earlier in the conversation that are still in the catalog.
 */
export function selectTools(catalog: CatalogEntry[], message: string, opts: { context?: string; usedBefore?: string[]; k?: number } = {}): Selection {
  const k = opts.k ?? TOP_K
  const { index, sources: bySource } = indexed(catalog)
  const ranked = index.rank(message, { context: opts.context, limit: Math.max(RANKED_LIMIT, k) })
  const offered = new Set(ranked.slice(0, k).map((r) => r.name))
  const used = (opts.usedBefore ?? []).filter((n) => bySource.has(n) && !offered.has(n))
  const out: RankedTool[] = ranked.map((r, i) => ({
    ...r, offered: i < k || used.includes(r.name), reason: i < k ? 'top_k' : used.includes(r.name) ? 'used_before' : null, source: bySource.get(r.name) ?? '',
  }))
  for (const name of used) {
    if (!out.some((r) => r.name === name)) out.push({ name, score: 0, matched: [], offered: true, reason: 'used_before', source: bySource.get(name) ?? '' })
  }
  return { ranked: out, offered: [...offered, ...used], k, signals: ['bm25'] }
}

/** Best cosine similarities also considered, beside the BM25 candidates. */
const SEMANTIC_CANDIDATES = 20

/**
 * BM25 plus the embeddings model when one is configured: each tool scores its BM25 score scaled to the best one
 * (0..1) plus its cosine similarity to the message. Candidates are BM25's ranked tools and the closest by
 * embedding; the offer is the top k of that order plus tools used before. Without a model, or when it fails,
 * exactly `selectTools`.
 */
export async function selectToolsAsync(k: Kernel, catalog: CatalogEntry[], message: string, opts: { context?: string; usedBefore?: string[]; k?: number } = {}): Promise<{ selection: Selection; bm25: Selection }> {
  const bm25 = selectTools(catalog, message, opts)
  const e = embedder(k)
  if (!e || !catalog.length) return { selection: bm25, bm25 }
  let tools: Float32Array[]
  let query: Float32Array
  try {
    ;[tools, [query]] = await Promise.all([toolVectors(e, catalog), e.embed([message])])
  } catch (err) {
    k.log.warn('chat embeddings failed; ranking with BM25 alone', { error: (err as Error).message })
    return { selection: bm25, bm25 }
  }
  const kk = opts.k ?? TOP_K
  const top = bm25.ranked.filter((r) => r.reason !== 'used_before' || r.score > 0)
  const best = top[0]?.score || 1
  const cos = catalog.map((_, i) => cosine(tools[i], query))
  const byName = new Map(catalog.map((t, i) => [t.name, i]))
  const candidates = new Map<string, RankedTool>()
  for (const r of top) candidates.set(r.name, { ...r, bm25: r.score })
  const closest = cos.map((c, i) => [c, i] as const).sort((a, b) => b[0] - a[0]).slice(0, SEMANTIC_CANDIDATES)
  for (const [, i] of closest) {
    const t = catalog[i]
    if (!candidates.has(t.name)) candidates.set(t.name, { name: t.name, score: 0, bm25: 0, matched: [], offered: false, reason: null, source: t.source })
  }
  const ranked: RankedTool[] = [...candidates.values()].map((r) => {
    const semantic = Math.round(cos[byName.get(r.name)!] * 1000) / 1000
    return { ...r, semantic, score: Math.round(((r.bm25 ?? 0) / best + semantic) * 1000) / 1000 }
  }).sort((a, b) => b.score - a.score || byName.get(a.name)! - byName.get(b.name)!)
  const used = (opts.usedBefore ?? []).filter((n) => byName.has(n))
  const offered = new Set(ranked.slice(0, kk).map((r) => r.name))
  for (const n of used) offered.add(n)
  ranked.forEach((r, i) => { r.offered = offered.has(r.name); r.reason = i < kk ? 'top_k' : offered.has(r.name) ? 'used_before' : null })
  for (const n of used) if (!candidates.has(n)) ranked.push({ name: n, score: 0, matched: [], offered: true, reason: 'used_before', source: catalog[byName.get(n)!].source })
  return { selection: { ranked: ranked.slice(0, Math.max(RANKED_LIMIT, kk)), offered: [...offered], k: kk, signals: ['bm25', `embeddings:${e.model}`] }, bm25 }
}
