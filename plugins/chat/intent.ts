import { tokenize, type Ranked } from './ranking'

/**
 * Does a message need tools? A cheap model-free classification (verbs, question shapes, how well the best tool
 * matched); explain-intent can ask the model instead when one is configured (see orchestrator.explainIntent).
 */

export type Intent = 'action' | 'data_query' | 'conversation'
export interface IntentResult { intent: Intent; needs_tools: boolean; confidence: number; reasoning: string; method: 'heuristic' | 'llm' }

const ACTION = new Set(('send post create add make schedule book delete remove update edit change set assign close open merge deploy run '
  + 'trigger start stop cancel upload download share invite notify remind message email text dm publish tweet reply comment archive move '
  + 'transfer pay refund charge order buy call fetch get find search look list show check pull sync export import generate summarize '
  + 'translate convert calculate compute').split(' '))
const GREETING = /^(hi|hello|hey|yo|good (morning|afternoon|evening)|thanks|thank you|thx|ok|okay|cool|great|nice|bye|goodbye)\b[\s!.,]*$/i
const EXPLAIN = /^(what is|what are|what's|explain|why|how does|how do|how can|how to|tell me about|describe|define|who was|who is)\b/i
const LIVE_DATA = /\b(my|our|latest|recent|today|now|current|last \d+|top \d+|this (week|month)|yesterday|tomorrow|unread|open|pending)\b/i
const URL = /https?:\/\/\S+/i

export function classifyIntent(content: string, ranked: Ranked[]): IntentResult {
  const text = content.trim()
  const words = text.toLowerCase().replace(/[^a-z0-9\s']/g, ' ').split(/\s+/).filter(Boolean)
  const best = ranked[0]
  // BM25 scores shrink with small catalogs: a query word in the best tool's own name counts as strong too.
  const nameHit = !!best && tokenize(best.name).some((w) => best.matched.includes(w))
  const strongMatch = !!best && (best.score >= 2.5 || nameHit)
  const anyMatch = !!best && best.score > 0.8
  if (GREETING.test(text)) {
    return { intent: 'conversation', needs_tools: false, confidence: 0.95, reasoning: 'A greeting or acknowledgement: answer directly.', method: 'heuristic' }
  }
  const lead = words.slice(0, 4).find((w) => ACTION.has(w.replace(/'s$/, '')))
  const polite = /^(please|can you|could you|would you|pls|kindly|i need you to|i want you to|go ahead and)\b/i.test(text)
  if (URL.test(text)) {
    return { intent: 'action', needs_tools: true, confidence: 0.8, reasoning: 'The message contains a URL to fetch or act on.', method: 'heuristic' }
  }
  if (lead && (strongMatch || anyMatch)) {
    return { intent: 'action', needs_tools: true, confidence: strongMatch ? 0.9 : 0.75, reasoning: `Starts with the action "${lead}"${polite ? ' (a request)' : ''} and matches the tool ${best!.name} (${best!.matched.join(', ')}).`, method: 'heuristic' }
  }
  if (EXPLAIN.test(text) && !LIVE_DATA.test(text)) {
    return { intent: 'conversation', needs_tools: false, confidence: strongMatch ? 0.6 : 0.8, reasoning: 'A question asking for an explanation, not for live data.', method: 'heuristic' }
  }
  if (strongMatch && (LIVE_DATA.test(text) || text.endsWith('?'))) {
    return { intent: 'data_query', needs_tools: true, confidence: 0.8, reasoning: `Asks for live data that the tool ${best!.name} provides (${best!.matched.join(', ')}).`, method: 'heuristic' }
  }
  if (lead) {
    return { intent: 'action', needs_tools: true, confidence: 0.55, reasoning: `Starts with the action "${lead}", though no tool matched strongly.`, method: 'heuristic' }
  }
  if (strongMatch) {
    return { intent: 'data_query', needs_tools: true, confidence: 0.6, reasoning: `Mentions what the tool ${best!.name} does (${best!.matched.join(', ')}).`, method: 'heuristic' }
  }
  return { intent: 'conversation', needs_tools: false, confidence: anyMatch ? 0.6 : 0.75, reasoning: 'No action verb and no tool matched well: answer directly.', method: 'heuristic' }
}
