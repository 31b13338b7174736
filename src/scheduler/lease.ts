import { hostname } from 'node:os'
import type { Db } from '../db/open'
import { randomString } from '../db/ids'
import * as store from './store'

export const LEASE_TTL_MS = 30_000

/**
 * The one-holder lease the scheduler fires under (DESIGN §11). Each change of holder increments the
 * fencing token; every fire records the token and is inserted only while it is still current, so a
 * holder that lost the lease (paused process, another instance) cannot fire a slot.
 */
export class Lease {
  readonly holder = `${hostname()}:${process.pid}:${randomString(8)}`
  token: number | null = null

  constructor(private db: Db) {}

  /** Takes or renews the lease; false while another live holder has it. */
  ensure(now: number): boolean {
    const l = store.lease(this.db)
    if (l && l.holder === this.holder && l.token === this.token) {
      if (l.expires_at - now < LEASE_TTL_MS / 2) store.renewLease(this.db, this.holder, l.token, now + LEASE_TTL_MS)
      return true
    }
    if (l && l.expires_at > now && !this.holderGone(l.holder)) return false
    store.takeLease(this.db, this.holder, now + LEASE_TTL_MS)
    this.token = store.lease(this.db)!.token
    return true
  }

  /** Whether the fencing token is still ours (checked inside the transaction that records fires). */
  current(): boolean {
    const l = store.lease(this.db)
    return !!l && l.holder === this.holder && l.token === this.token
  }

  release() { if (this.token !== null) store.releaseLease(this.db, this.holder); this.token = null }

  /**
   * A holder on this host whose process is gone (SIGKILL, crash) cannot come back: the data dir lock
   * means it was the previous owner of this database, so its lease is taken at once instead of waiting.
   */
  private holderGone(holder: string): boolean {
    const [host, pidText] = holder.split(':')
    if (host !== hostname()) return false
    const pid = Number(pidText)
    if (pid === process.pid) return true // an earlier kernel of this process, already stopped
    try { process.kill(pid, 0); return false } catch (err) { return (err as NodeJS.ErrnoException).code === 'ESRCH' }
  }
}
