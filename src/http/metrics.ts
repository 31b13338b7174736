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

/** One method and route template: requests by status, and the latency histogram (per bucket; summed when rendered). */
interface RouteStats { method: string; route: string; byStatus: Map<number, number>; counts: number[]; sum: number; n: number }

export class Metrics {
  /** method -> route template -> stats: no key strings built per request (observe runs on every request). */
  private routes = new Map<string, Map<string, RouteStats>>()
  sseOpen = 0
  private gauges = new Map<string, { read: () => number; help: string }>()

  observe(method: string, route: string, status: number, seconds: number) {
    let byRoute = this.routes.get(method)
    if (!byRoute) this.routes.set(method, (byRoute = new Map()))
    let r = byRoute.get(route)
    if (!r) byRoute.set(route, (r = { method, route, byStatus: new Map(), counts: BUCKETS.map(() => 0), sum: 0, n: 0 }))
    r.byStatus.set(status, (r.byStatus.get(status) ?? 0) + 1)
    let i = 0
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++
    if (i < BUCKETS.length) r.counts[i]++
    r.sum += seconds
    r.n++
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
    const all = [...this.routes.values()].flatMap((byRoute) => [...byRoute.values()])
    for (const r of all) {
      for (const [status, v] of r.byStatus) out.push(`agentbase_http_requests_total{method="${r.method}",route="${esc(r.route)}",status="${status}"} ${v}`)
    }
    out.push('# HELP agentbase_http_request_duration_seconds Request latency', '# TYPE agentbase_http_request_duration_seconds histogram')
    for (const r of all) {
      const l = `method="${r.method}",route="${esc(r.route)}"`
      let cumulative = 0
      BUCKETS.forEach((b, i) => out.push(`agentbase_http_request_duration_seconds_bucket{${l},le="${b}"} ${(cumulative += r.counts[i])}`))
      out.push(`agentbase_http_request_duration_seconds_bucket{${l},le="+Inf"} ${r.n}`)
      out.push(`agentbase_http_request_duration_seconds_sum{${l}} ${r.sum}`, `agentbase_http_request_duration_seconds_count{${l}} ${r.n}`)
    }
    out.push('# HELP agentbase_sse_streams_open Open SSE streams', '# TYPE agentbase_sse_streams_open gauge', `agentbase_sse_streams_open ${this.sseOpen}`)
    for (const [name, g] of this.gauges) out.push(`# HELP ${name} ${escHelp(g.help)}`, `# TYPE ${name} gauge`, `${name} ${num(g.read())}`)
    return out.join('\n') + '\n'
  }
}
