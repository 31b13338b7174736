import type { Kernel } from '../../src/kernel'
import { deliveries } from '../../src/events/delivery'

/** Webhooks' wiring: the delivery worker (started by serve). */
export function register(k: Kernel) {
  k.workers.register({ name: 'webhooks.delivery', start: () => deliveries(k).start() })
}
