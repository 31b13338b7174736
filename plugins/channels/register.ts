import type { Kernel } from '../../src/kernel'
import { runtimeOf } from './worker'

/** Channels' wiring: the inbox worker (answers queued platform messages in order per chat) and its gauges. */
export function register(k: Kernel) {
  const rt = runtimeOf(k)
  k.workers.register({ name: 'channels.inbox', start() { rt.start(); return () => rt.stop() } })
  k.metrics.gauge('agentbase_channel_inbox_queued', () => rt.lanes.queued)
  k.metrics.gauge('agentbase_channel_inbox_running', () => rt.lanes.running)
}
