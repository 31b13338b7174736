import { Database } from 'bun:sqlite'
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Config } from '../config'
import { databasePath, existingMasterKey, masterKeyCheck, noDatabase } from '../kernel'
import { lockDataDir } from '../db/lock'
import { recordBackup } from '../db/last-backup'

export class CliError extends Error {}

/** Opens the existing database read-only (never creates one): backup and `migrate --status`. */
export function openExisting(config: Config): Database {
  const path = databasePath(config)
  if (!existsSync(path)) throw noDatabase(config)
  return new Database(path, { readonly: true, strict: true })
}

/**
 * A consistent copy while the server keeps writing (VACUUM INTO reads one snapshot). The target is
 * created empty with mode 0600 first, so the copy (every secret, sealed, and every user) is never
 * readable by others, not even for a moment; 'wx' also refuses to overwrite an existing file.
 */
export function backup(config: Config, file: string): string {
  const target = resolve(file)
  if (existsSync(target)) throw new CliError(`${target} already exists; choose a new file`)
  const db = openExisting(config)
  try {
    closeSync(openSync(target, 'wx', 0o600))
    chmodSync(target, 0o600) // umask cannot widen it, but be explicit
    db.query('VACUUM INTO ?').run(target)
    recordBackup(config.dataDir, new Date())
  } catch (err) {
    rmSync(target, { force: true })
    throw err
  } finally {
    db.close()
  }
  return target
}

/**
 * Replaces the database with a backup. Refused while a server holds the data dir, for a file that is not
 * an intact Agentbase database, and for a backup sealed with another master key (its secrets would be
 * unreadable). The replaced database is kept beside it as agentbase.db.before-restore-<time>.
 */
export function restore(config: Config, file: string, now: Date): { restored: string; previous: string | null } {
  const source = resolve(file)
  if (!existsSync(source)) throw new CliError(`${source} does not exist`)
  let check: string | undefined
  try {
    const b = new Database(source, { readonly: true, strict: true })
    try {
      const ok = b.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()?.integrity_check
      if (ok !== 'ok') throw new CliError(`${source} is damaged (integrity_check: ${ok})`)
      check = b.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'master_key_check'").get()?.value
    } finally {
      b.close()
    }
  } catch (err) {
    if (err instanceof CliError) throw err
    throw new CliError(`${source} is not an Agentbase backup (${(err as Error).message})`)
  }
  if (!check) throw new CliError(`${source} is not an Agentbase backup (no master key check in its meta table)`)
  const key = existingMasterKey(config)
  if (!key) throw new CliError(`no master key: copy the master.key kept with the backup into ${config.dataDir} (mode 0600) or set AGENTBASE_SECRET_KEY, then restore`)
  if (masterKeyCheck(key) !== check) throw new CliError(`${source} was made with another master key; restore its master.key into ${config.dataDir} or set AGENTBASE_SECRET_KEY to the key it was made with`)

  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const lock = lockDataDir(config.dataDir)
  try {
    const target = databasePath(config)
    let previous: string | null = null
    if (existsSync(target)) {
      // Fold the WAL into the file first, so the kept copy is whole on its own.
      const cur = new Database(target, { strict: true })
      try { cur.exec('PRAGMA wal_checkpoint(TRUNCATE)') } finally { cur.close() }
      previous = `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`
      renameSync(target, previous)
      chmodSync(previous, 0o600)
    }
    for (const side of ['-wal', '-shm']) rmSync(target + side, { force: true })
    const tmp = join(config.dataDir, `.restore-${process.pid}.db`)
    copyFileSync(source, tmp)
    chmodSync(tmp, 0o600)
    renameSync(tmp, target)
    return { restored: target, previous }
  } finally {
    lock.release()
  }
}
