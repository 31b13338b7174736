/** Prometheus text metrics: requests by route template and status, latency histogram, open SSE streams. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class Metrics {
  private requests = new Map<string, number>()
  private hist = new Map<string, { counts: number[]; sum: number; n: number }>()
  sseOpen = 0
  private gauges = new Map<string, () => number>()

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

  /** Domains expose their own gauges (queue depths, pool sizes). */
  gauge(name: string, read: () => number) { this.gauges.set(name, read) }

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
    for (const [name, read] of this.gauges) out.push(`# TYPE ${name} gauge`, `${name} ${read()}`)
    return out.join('\n') + '\n'
  }
}
