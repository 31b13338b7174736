import type { Kernel } from '../kernel'
import { newId } from '../db/ids'
import { iso } from '../clock'

/** What gets recorded for one tool call. Arguments and results are redacted and truncated here. */
export interface ToolCallRecord {
  id?: string
  ownerId: string
  workspaceId: string | null
  actor: string | null
  surface: string
  runId: string | null
  tool: string
  source: string | null
  success: boolean
  latencyMs: number
  error: string | null
  arguments: unknown
  result: unknown
  /** Literal secret values (tokens, header values) that must not appear in what is stored. */
  secrets?: string[]
}

export interface ToolCallRow {
  id: string; owner_id: string; workspace_id: string | null; actor: string | null; surface: string; run_id: string | null
  tool: string; source: string | null; success: number; latency_ms: number; error: string | null; arguments: string | null; result: string | null; created_at: string
}

export const AUDIT_MAX_CHARS = 2000
const SECRET_KEY = /(^|_|-)(token|secret|password|passwd|authorization|api[_-]?key|apikey|access[_-]?key|private[_-]?key|cookie|credentials?|auth)$|^(token|secret|password|authorization|api_key|apikey|cookie)/i

/** Replaces values under secret-looking keys, and any known secret string anywhere, with [redacted]. */
export function redact(value: unknown, secrets: string[] = [], depth = 0): unknown {
  if (depth > 20) return '[nested]'
  if (typeof value === 'string') return scrub(value, secrets)
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, secrets, depth + 1))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEY.test(key) && v !== null && v !== '' ? '[redacted]' : redact(v, secrets, depth + 1)
    return out
  }
  return value
}

export function scrub(text: string, secrets: string[] = []): string {
  let out = text
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]')
  // Common credential shapes even when we were not told about them.
  return out
    .replace(/\b(xox[abposr]-[A-Za-z0-9-]{6,})/g, '[redacted]')
    .replace(/\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g, '[redacted]')
    .replace(/\bbot\d{5,}:[A-Za-z0-9_-]{20,}/g, 'bot[redacted]')
    .replace(/(Bearer|Bot)\s+[A-Za-z0-9._~+/=-]{8,}/g, '$1 [redacted]')
}

const truncate = (s: string, max = AUDIT_MAX_CHARS) => (s.length > max ? `${s.slice(0, max)}…[truncated ${s.length - max} chars]` : s)

/** JSON text of a value for the audit log: redacted, then truncated. */
export function auditText(value: unknown, secrets: string[] = []): string | null {
  if (value === undefined) return null
  const text = typeof value === 'string' ? scrub(value, secrets) : JSON.stringify(redact(value, secrets))
  return truncate(text ?? 'null')
}

interface Pending { r: ToolCallRecord; id: string; createdAt: string }

/** How long audit rows may wait to share one transaction, and how many may wait. */
export const AUDIT_FLUSH_MS = 20
const AUDIT_FLUSH_ROWS = 500

/**
 * Group commit for the audit log, off the request path: rows written within AUDIT_FLUSH_MS share one
 * transaction (one fsync under AGENTBASE_SYNC=full instead of one per call, which would cap tool calls at
 * the disk's fsync rate and stall the event loop). Reads flush first, and so does k.close(); a hard
 * crash can lose at most the last AUDIT_FLUSH_MS of audit rows (with their `tool.call.failed` events,
 * which always commit together with their row).
 */
export class AuditWriter {
  private queue: Pending[] = []
  private timer: ReturnType<typeof setTimeout> | null = null
  constructor(private k: Kernel) {}

  write(r: ToolCallRecord): string {
    const id = r.id ?? newId('tcall')
    this.queue.push({ r, id, createdAt: iso(this.k.clock.now()) })
    if (this.queue.length >= AUDIT_FLUSH_ROWS) this.flush()
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), AUDIT_FLUSH_MS)
    return id
  }

  /** Commits everything queued (also called before reads, and at close). */
  flush() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    const batch = this.queue
    if (!batch.length) return
    this.queue = []
    try {
      this.k.db.transaction(() => { for (const p of batch) insert(this.k, p.r, p.id, p.createdAt) })()
    } catch (err) {
      this.k.log.error('tool audit write failed', { error: (err as Error).message, calls: batch.length })
    }
  }

  close() { this.flush() }
}

const writer = (k: Kernel) => k.toolAudit

function insert(k: Kernel, r: ToolCallRecord, id: string, createdAt: string) {
  const secrets = r.secrets ?? []
  const error = r.error === null ? null : truncate(scrub(r.error, secrets), 1000)
  k.db.query(`INSERT INTO tool_calls (id, owner_id, workspace_id, actor, surface, run_id, tool, source, success, latency_ms, error, arguments, result, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
    id, r.ownerId, r.workspaceId, r.actor, r.surface, r.runId, r.tool, r.source, r.success ? 1 : 0, Math.round(r.latencyMs),
    error, auditText(r.arguments, secrets), auditText(r.result, secrets), createdAt,
  )
  if (!r.success) {
    // The shape documented in src/events/catalog.ts (tool, run_id, server_id, error, duration_ms), plus where it came from.
    const source = r.source ?? ''
    k.events.publish('tool.call.failed', {
      tool: r.tool, run_id: r.runId, server_id: source.startsWith('mcp:') ? source.slice(4) : null, error, duration_ms: Math.round(r.latencyMs),
      call_id: id, source: r.source, connection_id: source.startsWith('connection:') ? source.slice(11) : null, surface: r.surface, workspace_id: r.workspaceId,
    }, { ownerId: r.ownerId })
  }
}

/**
 * Records a call, and (for failures) publishes `tool.call.failed` in the same transaction so the
 * event commits with its audit row (DESIGN §2). Returns the call id; the row commits within AUDIT_FLUSH_MS.
 */
export const recordToolCall = (k: Kernel, r: ToolCallRecord): string => writer(k).write(r)

/** Commits pending audit rows now (before reading tool_calls or events directly). */
export const flushToolCalls = (k: Kernel) => writer(k).flush()

export function listToolCalls(k: Kernel, q: { ownerId: string | null; workspaceId: string | null; tool?: string | null; limit: number }): ToolCallRow[] {
  writer(k).flush()
  return k.db.query<ToolCallRow, [string | null, string | null, string | null, number]>(
    `SELECT * FROM tool_calls WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2) AND (?3 IS NULL OR tool = ?3)
     ORDER BY created_at DESC, rowid DESC LIMIT ?4`,
  ).all(q.ownerId, q.workspaceId, q.tool ?? null, q.limit)
}
