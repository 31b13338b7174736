/** Housekeeping settings (README "Scheduler and housekeeping"). Retention days of 0 keep rows forever. */
export interface HousekeepingConfig {
  runsDays: number
  eventsDays: number
  deliveriesDays: number
  auditDays: number
  backupDir: string | null
  backupKeep: number
  backupEveryHours: number
}

type Env = Record<string, string | undefined>

function int(name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined || v.trim() === '') return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}, got "${v}"`)
  return n
}

export function housekeepingConfig(env: Env): HousekeepingConfig {
  const all = int('AGENTBASE_RETENTION_DAYS', env.AGENTBASE_RETENTION_DAYS, 30)
  return {
    runsDays: int('AGENTBASE_RETENTION_RUNS_DAYS', env.AGENTBASE_RETENTION_RUNS_DAYS, all),
    eventsDays: int('AGENTBASE_RETENTION_EVENTS_DAYS', env.AGENTBASE_RETENTION_EVENTS_DAYS, all),
    deliveriesDays: int('AGENTBASE_RETENTION_DELIVERIES_DAYS', env.AGENTBASE_RETENTION_DELIVERIES_DAYS, all),
    auditDays: int('AGENTBASE_RETENTION_AUDIT_DAYS', env.AGENTBASE_RETENTION_AUDIT_DAYS, Math.max(all, 90)),
    backupDir: env.AGENTBASE_BACKUP_DIR?.trim() ? env.AGENTBASE_BACKUP_DIR.trim() : null,
    backupKeep: int('AGENTBASE_BACKUP_KEEP', env.AGENTBASE_BACKUP_KEEP, 7, 1),
    backupEveryHours: int('AGENTBASE_BACKUP_EVERY_HOURS', env.AGENTBASE_BACKUP_EVERY_HOURS, 24, 1),
  }
}
