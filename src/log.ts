/** JSON lines on stdout. Never pass secrets in fields. */
export type Level = 'debug' | 'info' | 'warn' | 'error'
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  /**
   * A logger whose every line carries `fields` too (a request's `request_id`, a run's `run_id`):
   *   const log = k.log.child({ request_id }); log.warn('run failed', { run_id })
   */
  child(fields: Record<string, unknown>): Logger
}

/**
 * Lines to stdout, batched: one write per event-loop turn instead of one per line (the per-request access line's
 * own write was ~28% of an authenticated request's CPU, bench/RESULTS.md). Error lines flush at once, and
 * whatever is pending is written at exit.
 */
let pending: string[] = []
let scheduled = false
function flushStdout() {
  scheduled = false
  if (!pending.length) return
  const out = pending.join('\n') + '\n'
  pending = []
  process.stdout.write(out)
}
process.once('exit', flushStdout)
export function stdoutLine(line: string, now = false) {
  pending.push(line)
  if (now) flushStdout()
  else if (!scheduled) { scheduled = true; setImmediate(flushStdout) }
}

// The same millisecond formats to the same string: under load many lines share one (toISOString was ~2% of
// an authenticated request's CPU with the access log on).
let isoMs = -1
let isoStr = ''
const isoNow = () => { const ms = Date.now(); if (ms !== isoMs) { isoMs = ms; isoStr = new Date(ms).toISOString() } return isoStr }

// At LOG_LEVEL=debug (diagnosis, not throughput) every line goes out at once.
export function createLogger(level: Level | 'silent' = 'info', write: (line: string, level: Level) => void = (l, lvl) => stdoutLine(l, lvl === 'error' || level === 'debug'), base: Record<string, unknown> = {}): Logger {
  const min = level === 'silent' ? Infinity : order[level]
  // The line is assembled from pieces (base fields serialized once per logger) rather than by merging objects
  // per line; a field that repeats a base or header key takes the merging path so it still wins once.
  // Serialized at the first line, not when the logger is made: a child per request often writes nothing.
  let baseKeys: string[] | null = null
  let baseJson = ''
  const clashes = (keys: string[], fields: Record<string, unknown>) => 'time' in fields || 'level' in fields || 'msg' in fields || keys.some((key) => key in fields)
  const emit = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < min) return
    if (!baseKeys) { baseKeys = Object.keys(base); baseJson = baseKeys.length ? ',' + JSON.stringify(base).slice(1, -1) : '' }
    if (fields && clashes(baseKeys, fields)) return write(JSON.stringify({ time: isoNow(), level: lvl, msg, ...base, ...fields }), lvl)
    const rest = fields ? JSON.stringify(fields) : '{}'
    write(`{"time":"${isoNow()}","level":"${lvl}","msg":${JSON.stringify(msg)}${baseJson}${rest.length > 2 ? ',' + rest.slice(1) : '}'}`, lvl)
  }
  return {
    debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  }
}
