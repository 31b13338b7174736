import { perKernel, type Kernel } from '../../src/kernel'
import { onRunFinished, rollup } from './usage'
import { failInterrupted } from './tasks'
import { registerInvoiceSchedule } from '../wallet/service'

/** The /v1 domain's wiring: the usage rollup follows finished runs; interrupted tasks are closed at start; monthly invoices. */
export const register = (k: Kernel) => { wire(k) }

/** Once per kernel, however many times createApp runs. */
const wire = perKernel((k) => {
    rollup(k)
    const off = k.runs.onFinished((run, refs) => onRunFinished(k, run, refs))
    k.workers.register({ name: 'v1.tasks-recovery', start() { failInterrupted(k); return () => {} } })
    // billing.invoice.created is a /v1 event: the monthly invoice run is wired with it.
    registerInvoiceSchedule(k)
    return { close: off }
})
