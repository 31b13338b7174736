import type { CatalogEntry } from '../../src/tools/workspace-tools'
import { ToolIndex, paramNames, type Ranked } from './ranking'

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

export interface RankedTool extends Ranked { offered: boolean; reason: 'top_k' | 'used_before' | null; source: string }

export interface Selection { ranked: RankedTool[]; offered: string[]; k: number }

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
  return { ranked: out, offered: [...offered, ...used], k }
}
