/** Prometheus text metrics: requests by route template and status, latency histogram, open SSE streams. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/** HELP for the gauges the domains register (so their plugins need not repeat it). */
const GAUGE_HELP: Record<string, string> = {
  agentbase_webhook_deliveries_pending: 'Outbound webhook deliveries waiting to be sent or retried',
  agentbase_webhook_deliveries_in_flight: 'Outbound webhook deliveries being sent right now',
  agentbase_channel_inbox_queued: 'Inbound bot messages committed and waiting for an answer',
  agentbase_channel_inbox_running: 'Inbound bot messages being answered right now',
  agentbase_endpoint_run_queue_depth: 'Asynchronous agent-endpoint runs waiting in the queue',
  agentbase_endpoint_runs_running: 'Asynchronous agent-endpoint runs executing right now',
  agentbase_mcp_connections: 'Open connections to MCP servers in the client pool',
  agentbase_run_queue_depth: 'Queued runs (all sources) waiting for a worker',
  agentbase_runs_running: 'Runs (all sources) executing right now',
}
const fromName = (name: string) => name.replace(/^agentbase_/, '').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) + ' (gauge)'
const escHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
/** Sample values as Prometheus writes them (NaN/±Inf spelled its way). */
const num = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v))

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class Metrics {
  private requests = new Map<string, number>()
  private hist = new Map<string, { counts: number[]; sum: number; n: number }>()
  sseOpen = 0
  private gauges = new Map<string, { read: () => number; help: string }>()

  observe(method: string, route: string, status: number, seconds: number) {
    const key = `${method}\u0000${route}\u0000${status}`
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
    const hk = `${method}\u0000${route}`
    let h = this.hist.get(hk)
    if (!h) this.hist.set(hk, (h = { counts: BUCKETS.map(() => 0), sum: 0, n: 0 }))
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i]++
    h.sum += seconds
    h.n++
  }

  /**
   * Domains expose their own gauges (queue depths, pool sizes). Every metric carries HELP text: the one
   * given here, else the catalogue below, else a sentence made from the name (never none).
   */
  gauge(name: string, read: () => number, help?: string) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name "${name}"`)
    this.gauges.set(name, { read, help: help ?? GAUGE_HELP[name] ?? fromName(name) })
  }

  render(): string {
    const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    const out: string[] = ['# HELP agentbase_http_requests_total HTTP requests by route template and status', '# TYPE agentbase_http_requests_total counter']
    for (const [k, v] of this.requests) {
      const [m, r, s] = k.split('\u0000')
      out.push(`agentbase_http_requests_total{method="${m}",route="${esc(r)}",status="${s}"} ${v}`)
    }
    out.push('# HELP agentbase_http_request_duration_seconds Request latency', '# TYPE agentbase_http_request_duration_seconds histogram')
    for (const [k, h] of this.hist) {
      const [m, r] = k.split('\u0000')
      const l = `method="${m}",route="${esc(r)}"`
      BUCKETS.forEach((b, i) => out.push(`agentbase_http_request_duration_seconds_bucket{${l},le="${b}"} ${h.counts[i]}`))
      out.push(`agentbase_http_request_duration_seconds_bucket{${l},le="+Inf"} ${h.n}`)
      out.push(`agentbase_http_request_duration_seconds_sum{${l}} ${h.sum}`, `agentbase_http_request_duration_seconds_count{${l}} ${h.n}`)
    }
    out.push('# HELP agentbase_sse_streams_open Open SSE streams', '# TYPE agentbase_sse_streams_open gauge', `agentbase_sse_streams_open ${this.sseOpen}`)
    for (const [name, g] of this.gauges) out.push(`# HELP ${name} ${escHelp(g.help)}`, `# TYPE ${name} gauge`, `${name} ${num(g.read())}`)
    return out.join('\n') + '\n'
  }
}
