import type { Kernel } from '../../src/kernel'
import * as accounts from './service'

/** Bot accounts' wiring: the auth guard learns `bot_` keys. */
export function register(k: Kernel) {
  k.keyResolvers.set('bot_', (key) => accounts.resolveBotKey(k, key))
}
