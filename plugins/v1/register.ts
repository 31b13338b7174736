import type { Kernel } from '../../src/kernel'
import { onRunFinished, rollup } from './usage'
import { failInterrupted } from './tasks'

/** The /v1 domain's wiring: the usage rollup follows finished runs; interrupted tasks are closed at start. */
export function register(k: Kernel) {
  k.singleton('v1.wiring', () => {
    rollup(k)
    const off = k.events.subscribe((e) => {
      if (e.type === 'run.completed' || e.type === 'run.failed') onRunFinished(k, e)
    })
    k.workers.register({ name: 'v1.tasks-recovery', start() { failInterrupted(k); return () => {} } })
    return { close: off }
  })
}
