import type { Kernel } from '../../src/kernel'
import * as wallet from './service'

/** The wallet's wiring: the run service's billing debits and gates through it. */
export function register(k: Kernel) {
  k.wallet = {
    balanceMicro: (userId) => wallet.balanceMicro(k, userId),
    debit: (userId, micro, reason, ref) => { wallet.debit(k, userId, micro, reason, ref) },
  }
}
