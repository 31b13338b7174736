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

export function createLogger(level: Level | 'silent' = 'info', write: (line: string) => void = (l) => process.stdout.write(l + '\n'), base: Record<string, unknown> = {}): Logger {
  const min = level === 'silent' ? Infinity : order[level]
  const emit = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < min) return
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }))
  }
  return {
    debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  }
}
