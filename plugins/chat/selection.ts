import type { CatalogEntry } from '../../src/tools/workspace-tools'
import { ToolIndex, paramNames, type Ranked } from './ranking'

/** Which tools the orchestrator offers for a message: the BM25 top k plus every tool used earlier in the conversation. */

export const TOP_K = 8

/** One index per catalog array (the tool set caches catalogs, so the index is built once per catalog version). */
const indexes = new WeakMap<object, ToolIndex>()
export function indexFor(catalog: CatalogEntry[]): ToolIndex {
  let idx = indexes.get(catalog)
  if (!idx) indexes.set(catalog, (idx = new ToolIndex(catalog.map((e) => ({ name: e.name, description: e.description, params: paramNames(e.inputSchema) })))))
  return idx
}

export interface RankedTool extends Ranked { offered: boolean; reason: 'top_k' | 'used_before' | null; source: string }

export interface Selection { ranked: RankedTool[]; offered: string[]; k: number }

/**
 * Ranks the catalog against the message (recent history as a weaker signal). Offered: the top k that scored,
 * then tools used earlier in the conversation that are still in the catalog.
 */
export function selectTools(catalog: CatalogEntry[], message: string, opts: { context?: string; usedBefore?: string[]; k?: number } = {}): Selection {
  const k = opts.k ?? TOP_K
  const idx = indexFor(catalog)
  const bySource = new Map(catalog.map((e) => [e.name, e.source]))
  const ranked = idx.rank(message, { context: opts.context })
  const offered = new Set(ranked.slice(0, k).map((r) => r.name))
  const used = (opts.usedBefore ?? []).filter((n) => bySource.has(n) && !offered.has(n))
  const out: RankedTool[] = ranked.map((r, i) => ({
    ...r, offered: i < k || used.includes(r.name), reason: i < k ? 'top_k' : used.includes(r.name) ? 'used_before' : null, source: bySource.get(r.name) ?? '',
  }))
  for (const name of used) {
    if (!out.some((r) => r.name === name)) out.push({ name, score: 0, matched: [], offered: true, reason: 'used_before', source: bySource.get(name) ?? '' })
  }
  return { ranked: out, offered: [...offered, ...used], k }
}
