/**
 * Tool selection that scales: BM25F over each tool's name, description and parameter names. Pure TS, no network,
 * no embeddings. An index is built once per catalog (a few µs per tool) and answers a query in microseconds even
 * with thousands of tools (bench/chat-ranking.ts).
 */

export interface RankDoc { name: string; description: string; params: string[] }
export interface Ranked { name: string; score: number; matched: string[] }

/** Field weights: a word in the tool's name says more than one in its description. */
const W_NAME = 3
const W_PARAM = 1.5
const W_DESC = 1
const K1 = 1.2
const B = 0.75

const STOP = new Set(('a an and are as at be by can could do does for from has have how i in into is it its me my of on or our please '
  + 'should so that the their them then there these this those to us was we what when where which who will with would you your all any '
  + 'some get example eg e g etc').split(' '))

/** Words that name the same action or object on different platforms; a query term also looks for these (half weight). */
const SYNONYMS: Record<string, string[]> = {
  message: ['send', 'post', 'chat', 'text'], send: ['post', 'message'], post: ['send', 'publish', 'message'], text: ['message', 'sms'],
  sms: ['text', 'message'], dm: ['direct', 'message'], email: ['mail', 'gmail'], mail: ['email'], reply: ['respond', 'comment'],
  issue: ['ticket', 'bug'], ticket: ['issue'], bug: ['issue'], task: ['todo', 'card', 'item'], todo: ['task'], card: ['task'],
  deal: ['opportunity'], opportunity: ['deal'], customer: ['contact', 'client'], client: ['customer', 'contact'], contact: ['customer', 'person'],
  lead: ['contact', 'prospect'], meeting: ['event', 'calendar'], event: ['meeting', 'calendar'], schedule: ['calendar', 'event', 'create'],
  appointment: ['event', 'meeting'], calendar: ['event'], file: ['document', 'upload'], document: ['file', 'doc'], doc: ['document'],
  remove: ['delete'], delete: ['remove'], create: ['add', 'new'], add: ['create', 'insert'], make: ['create'], new: ['create'],
  find: ['search', 'list', 'lookup'], search: ['find', 'query', 'lookup'], look: ['search', 'find'], show: ['list', 'get'],
  fetch: ['get', 'list', 'read'], read: ['get', 'list'], list: ['get'], check: ['get', 'status'], update: ['edit', 'modify', 'change'],
  edit: ['update'], change: ['update'], modify: ['update'], repo: ['repository'], repository: ['repo'], pr: ['pull', 'request'],
  invoice: ['bill', 'payment'], pay: ['payment', 'charge'], payment: ['charge', 'pay'], refund: ['payment'], money: ['payment', 'transfer'],
  time: ['date', 'clock'], date: ['time', 'day'], weather: ['forecast'], translate: ['translation', 'language'], song: ['track', 'music'],
  music: ['track', 'song', 'play'], play: ['music', 'playback'], photo: ['image', 'picture'], picture: ['image', 'photo'], image: ['picture', 'photo'],
  user: ['member', 'account'], member: ['user'], channel: ['room', 'group'], note: ['page', 'document'], page: ['document', 'note'],
  spreadsheet: ['sheet', 'row'], sheet: ['spreadsheet'], row: ['record'], record: ['row'], order: ['purchase'], product: ['item'],
  stock: ['inventory', 'quote'], price: ['quote', 'cost'], url: ['http', 'link', 'web'], website: ['http', 'url', 'web'], web: ['http', 'url'],
  api: ['http', 'request'], call: ['request', 'phone'], notify: ['send', 'message', 'alert'], alert: ['notify', 'incident'], remind: ['reminder'],
  summary: ['summarize'], summarize: ['summary'], tweet: ['post', 'twitter'], upload: ['file', 'put'], download: ['get', 'file'], close: ['resolve'],
  assign: ['assignee'], comment: ['reply', 'note'], star: ['favorite'], label: ['tag'], tag: ['label'],
  rain: ['weather', 'forecast'], snow: ['weather', 'forecast'], temperature: ['weather'], weekend: ['forecast'],
  bitcoin: ['cryptocurrency', 'coin', 'price'], ethereum: ['cryptocurrency', 'coin', 'price'], crypto: ['cryptocurrency', 'coin'], worth: ['price'],
  readme: ['file', 'contents'], revenue: ['deal', 'amount'], know: ['message', 'send'], tell: ['message', 'send'], let: ['send'],
  train: ['directions', 'transit'], drive: ['directions'], walk: ['directions'], math: ['compute'], integral: ['compute', 'math'], equation: ['compute'],
  outage: ['incident'], down: ['incident'], oncall: ['incident', 'call'], tomorrow: ['schedule'],
}

/** Light stemming: plural and common verb endings, so "issues" finds `list_issue` and "sending" finds `send`. */
export function stem(w: string): string {
  if (w.length <= 3) return w
  if (w.endsWith('ies') && w.length > 4) return `${w.slice(0, -3)}y`
  if (w.endsWith('sses')) return w.slice(0, -2)
  if (w.endsWith('ing') && w.length > 5) { const s = w.slice(0, -3); return s.length > 2 && s.at(-1) === s.at(-2) ? s.slice(0, -1) : s }
  if (w.endsWith('ed') && w.length > 4) { const s = w.slice(0, -2); return s.length > 2 && s.at(-1) === s.at(-2) ? s.slice(0, -1) : s }
  if (w.endsWith('es') && /(ch|sh|x|z)es$/.test(w)) return w.slice(0, -2)
  if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us')) return w.slice(0, -1)
  return w
}

/** Words of a text: camelCase and snake_case split, lowercased, stop words dropped, stemmed. */
export function tokenize(text: string): string[] {
  const out: string[] = []
  const spaced = text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase()
  for (const raw of spaced.split(/[^a-z0-9]+/)) {
    if (!raw || raw.length > 40 || STOP.has(raw)) continue
    out.push(stem(raw))
  }
  return out
}

const SYN_STEMMED = new Map<string, string[]>(Object.entries(SYNONYMS).map(([w, s]) => [stem(w), s.map(stem)]))

/** A term's postings as parallel typed arrays (doc index, weighted term frequency): tight loops, no objects. */
interface Postings { docs: Int32Array; tfs: Float64Array }

export class ToolIndex {
  private postings = new Map<string, Postings>()
  /** Per doc: K1 * (1 - B + B * length / average length), the BM25 length normalisation, precomputed. */
  private norms: Float64Array
  private terms: Set<string>[]
  /** Scratch scores, reused by every query (zeroed again for the docs a query touched). */
  private scores: Float64Array
  readonly names: string[]

  constructor(docs: RankDoc[]) {
    this.names = docs.map((d) => d.name)
    const lengths = new Float64Array(docs.length)
    const building = new Map<string, { docs: number[]; tfs: number[] }>()
    this.terms = docs.map((d, i) => {
      const tf = new Map<string, number>()
      const add = (words: string[], w: number) => { for (const t of words) tf.set(t, (tf.get(t) ?? 0) + w) }
      add(tokenize(d.name), W_NAME)
      add(d.params.flatMap(tokenize), W_PARAM)
      add(tokenize(d.description), W_DESC)
      for (const [term, n] of tf) {
        lengths[i] += n
        let list = building.get(term)
        if (!list) building.set(term, (list = { docs: [], tfs: [] }))
        list.docs.push(i)
        list.tfs.push(n)
      }
      return new Set(tf.keys())
    })
    for (const [term, l] of building) this.postings.set(term, { docs: Int32Array.from(l.docs), tfs: Float64Array.from(l.tfs) })
    const avg = docs.length ? lengths.reduce((a, b) => a + b, 0) / docs.length : 1
    this.norms = lengths.map((len) => K1 * (1 - B + B * (len / avg)))
    this.scores = new Float64Array(docs.length)
  }

  get size() { return this.names.length }

  /**
   * Tools scoring above zero, best first (at most `limit`, default all). `context` (recent history) counts at
   * `contextWeight`; synonyms of query words at half weight. `matched` lists the query words (and synonyms)
   * found in the tool.
   */
  rank(query: string, opts: { context?: string; contextWeight?: number; limit?: number } = {}): Ranked[] {
    const weights = new Map<string, number>()
    const bump = (t: string, w: number) => weights.set(t, Math.max(weights.get(t) ?? 0, w))
    // A URL in the message is a strong hint (http tools), its host words are noise.
    for (const t of tokenize(query.replace(/https?:\/\/\S+/gi, ' url http web link '))) {
      bump(t, 1)
      for (const s of SYN_STEMMED.get(t) ?? []) bump(s, 0.5)
    }
    if (opts.context) for (const t of tokenize(opts.context)) bump(t, opts.contextWeight ?? 0.3)
    const n = this.names.length
    const scores = this.scores
    const touched: number[] = []
    for (const [term, w] of weights) {
      const list = this.postings.get(term)
      if (!list) continue
      const { docs, tfs } = list
      const idf = w * Math.log(1 + (n - docs.length + 0.5) / (docs.length + 0.5))
      for (let i = 0; i < docs.length; i++) {
        const doc = docs[i]
        const tf = tfs[i]
        if (scores[doc] === 0) touched.push(doc)
        scores[doc] += idf * ((tf * (K1 + 1)) / (tf + this.norms[doc]))
      }
    }
    // Only the best `limit` need ordering: a native numeric sort finds the cut-off score, then the few above it
    // are sorted. Ties keep catalog order (built-ins and earlier tools first): deterministic answers.
    let top = touched
    const limit = opts.limit ?? 0
    if (limit && touched.length > limit) {
      const sorted = Float64Array.from(touched, (d) => scores[d]).sort()
      const cut = sorted[sorted.length - limit]
      top = touched.filter((d) => scores[d] >= cut)
    }
    top.sort((a, b) => scores[b] - scores[a] || a - b)
    if (limit) top = top.slice(0, limit)
    const queryTerms = [...weights.keys()]
    const out = top.map((doc) => ({
      name: this.names[doc], score: Math.round(scores[doc] * 1000) / 1000, matched: queryTerms.filter((t) => this.terms[doc].has(t)),
    }))
    for (const doc of touched) scores[doc] = 0
    return out
  }
}

/** Parameter names of a JSON Schema object (top level and one level of nesting). */
export function paramNames(schema: unknown): string[] {
  const props = (schema as { properties?: Record<string, unknown> } | null)?.properties
  if (!props || typeof props !== 'object') return []
  const out: string[] = []
  for (const [name, sub] of Object.entries(props)) {
    out.push(name)
    const inner = (sub as { properties?: Record<string, unknown> } | null)?.properties
    if (inner && typeof inner === 'object') out.push(...Object.keys(inner))
  }
  return out
}
