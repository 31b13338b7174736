import type { Kernel } from '../../src/kernel'
import { endpointsStore } from './store'
import { requestFor } from './execute'
import { callbacks } from './callback'

/** The endpoints domain's wiring: how its queued runs resume after a restart, and its callback deliveries. */
export function register(k: Kernel) {
  k.runs.registerSource('endpoint', {
    resume(run) {
      const ep = run.source_id ? endpointsStore(k.db).get(run.source_id) : null
      return ep ? requestFor(k, ep, run.input, { mode: 'async', caller: run.caller, callbackUrl: run.callback_url }) : null
    },
  })
  // A finished run with a callback_url: its run.* event (committed with the outcome) starts the delivery.
  k.events.subscribe((e) => {
    if ((e.type === 'run.completed' || e.type === 'run.failed') && e.data.source === 'endpoint') {
      const run = k.runs.get(String(e.data.run_id))
      if (run?.callback_status === 'pending') callbacks(k).schedule(run.id)
    }
  })
  k.workers.register({
    name: 'agent-endpoints.callbacks',
    start() {
      const cb = callbacks(k)
      cb.start()
      cb.resume()
      return () => cb.stop()
    },
  })
}
