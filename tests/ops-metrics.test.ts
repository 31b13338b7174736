// Issue 11 item 20: /metrics is clean Prometheus text: every family has HELP and TYPE before its samples,
// well-formed names, labels and values, complete histograms. Checked by our own reader of the format,
// and by `promtool check metrics` too where it is installed (Debian's prometheus package).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { afterResponses, testApp } from './helpers'

const t = testApp()
let text = ''
beforeAll(async () => {
  const u = await t.user()
  await t.req('GET', '/api/workspaces', { token: u.token })
  await t.req('GET', '/api/workspaces/nope', { token: u.token })
  await t.req('GET', '/no/such/route')
  t.k.metrics.gauge('agentbase_test_things', () => 3) // a domain that gave no HELP still gets one
  await afterResponses()
  text = (await t.req('GET', '/metrics')).text
})
afterAll(() => t.close())

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")*)?\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/

/** Problems with an exposition text, as promtool would list them; [] when clean. */
function lint(body: string): string[] {
  const problems: string[] = []
  if (!body.endsWith('\n')) problems.push('does not end with a newline')
  const help = new Map<string, string>(), type = new Map<string, string>()
  const seenSeries = new Set<string>()
  const closed = new Set<string>()
  let current = ''
  const familyOf = (name: string) => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      const base = name.slice(0, -suffix.length)
      if (name.endsWith(suffix) && type.get(base) === 'histogram') return base
    }
    return name
  }
  const hist = new Map<string, { buckets: Map<string, Array<[number, number]>>; count: Map<string, number> }>()
  for (const line of body.split('\n').slice(0, -1)) {
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta) {
      const [, kind, name, rest] = meta
      if (!NAME.test(name)) problems.push(`bad metric name ${name}`)
      const map = kind === 'HELP' ? help : type
      if (map.has(name)) problems.push(`second ${kind} for ${name}`)
      if (kind === 'HELP' && !rest.trim()) problems.push(`empty HELP for ${name}`)
      if (kind === 'TYPE' && !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) problems.push(`bad TYPE ${rest} for ${name}`)
      if (closed.has(name)) problems.push(`${kind} for ${name} after its samples`)
      map.set(name, rest)
      if (current && current !== name) closed.add(current)
      current = name
      continue
    }
    if (line.startsWith('#') || line === '') { problems.push(`unexpected line "${line}"`); continue }
    const m = SAMPLE.exec(line)
    if (!m) { problems.push(`malformed sample "${line}"`); continue }
    const family = familyOf(m[1])
    if (!help.has(family)) problems.push(`no HELP for ${family}`)
    if (!type.has(family)) problems.push(`no TYPE for ${family}`)
    if (family !== current) { problems.push(`sample of ${family} outside its group`); continue }
    const series = m[1] + (m[2] ?? '')
    if (seenSeries.has(series)) problems.push(`duplicate series ${series}`)
    seenSeries.add(series)
    if (type.get(family) === 'counter' && !family.endsWith('_total')) problems.push(`counter ${family} should end in _total`)
    if (type.get(family) === 'histogram') {
      const h = hist.get(family) ?? { buckets: new Map(), count: new Map() }
      hist.set(family, h)
      const labels = (m[2] ?? '').replace(/,?le="[^"]*"/, '').replace('{,', '{')
      if (m[1].endsWith('_bucket')) {
        const le = /le="([^"]+)"/.exec(m[2] ?? '')?.[1]
        if (!le) problems.push(`bucket without le: ${line}`)
        else h.buckets.set(labels, [...(h.buckets.get(labels) ?? []), [le === '+Inf' ? Infinity : Number(le), Number(m[3])]])
      }
      if (m[1].endsWith('_count')) h.count.set(labels, Number(m[3]))
    }
  }
  for (const [family, h] of hist) {
    for (const [labels, b] of h.buckets) {
      for (let i = 1; i < b.length; i++) if (b[i][0] <= b[i - 1][0] || b[i][1] < b[i - 1][1]) problems.push(`${family}${labels}: buckets not increasing`)
      if (b.at(-1)![0] !== Infinity) problems.push(`${family}${labels}: no +Inf bucket`)
      else if (h.count.get(labels.replace(/\{\}$/, '')) !== b.at(-1)![1] && h.count.get(labels) !== b.at(-1)![1]) problems.push(`${family}${labels}: +Inf bucket differs from _count`)
    }
  }
  return problems
}

describe('/metrics', () => {
  test('the text is clean: HELP and TYPE for every family, well-formed samples, complete histograms', () => {
    expect(text).toContain('agentbase_http_requests_total{')
    expect(text).toContain('agentbase_http_request_duration_seconds_bucket{')
    expect(text).toContain('# HELP agentbase_test_things ')
    expect(lint(text)).toEqual([])
  })

  test('every registered gauge has real HELP text', () => {
    // Domain gauges get written HELP, not the sentence made from their name (kept for the test's own gauge).
    const gauges = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]).filter((n) => n !== 'agentbase_test_things')
    expect(gauges.length).toBeGreaterThan(3)
    for (const name of gauges) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} [A-Z].{10,}$`, 'm'))
      expect(text).not.toMatch(new RegExp(`^# HELP ${name} .*\\(gauge\\)$`, 'm'))
    }
  })

  test('the reader catches what promtool would', () => {
    expect(lint('# TYPE x gauge\nx 1\n')).toContain('no HELP for x')
    expect(lint('# HELP x a thing\n# TYPE x counter\nx 1\n')).toContain('counter x should end in _total')
  })

  const promtool = Bun.which('promtool')
  test.skipIf(!promtool)('promtool check metrics is clean', async () => {
    const p = Bun.spawn([promtool!, 'check', 'metrics'], { stdin: new Blob([text]), stdout: 'pipe', stderr: 'pipe' })
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
    expect({ code, out: out.trim(), err: err.trim() }).toEqual({ code: 0, out: '', err: '' })
  })
})
