import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * When a backup was last written, kept as a small file in the data dir rather than in the database:
 * `agentbase backup` runs beside a serving process and only reads the database (the data dir's writer
 * is the server), and the Overview wants to show it.
 */
const file = (dataDir: string) => join(dataDir, 'last-backup')

export function recordBackup(dataDir: string, at: Date): void {
  try { writeFileSync(file(dataDir), at.toISOString().replace(/\.\d{3}Z$/, 'Z') + '\n', { mode: 0o600 }) } catch { /* advisory only */ }
}

export function lastBackupAt(dataDir: string): string | null {
  try { return readFileSync(file(dataDir), 'utf8').trim() || null } catch { return null }
}
