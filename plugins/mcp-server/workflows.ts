import type { Kernel } from '../../src/kernel'
import { hasScope, type Principal } from '../../src/auth/principal'
import type { JsonSchema } from '../../src/agent/types'
import * as workflows from '../workflows/service'
import { follow, toolNameOf } from '../workflows/service'

/**
 * Active workflows as MCP tools (issue 15 §3), for credentials with `workflows.run`: named like the workflow
 * tools agents see (`workflow_<name>`), input = the workflow's declared `workflow_metadata.input_schema` (or any
 * object: its input_data). A call is a durable execution (source `mcp`); each step is a progress notification.
 */

export interface WorkflowTool { name: string; title: string; description: string; inputSchema: JsonSchema; workflowId: string }

const ANY_OBJECT: JsonSchema = { type: 'object', description: 'The workflow input (input_data)', additionalProperties: true }

export function workflowTools(k: Kernel, p: Principal): WorkflowTool[] {
  if (!hasScope(p, 'workflows.run')) return []
  return workflows.list(k, p).filter((w) => w.status === 'active' && !w.is_template).map((w) => {
    const schema = (w.workflow_metadata as { input_schema?: JsonSchema }).input_schema
    return {
      name: toolNameOf(w), title: w.name, description: w.description || `Runs the workflow "${w.name}"`,
      inputSchema: schema && schema.type === 'object' ? schema : ANY_OBJECT, workflowId: w.id,
    }
  })
}

export async function runWorkflowTool(
  k: Kernel, p: Principal, tool: WorkflowTool, args: Record<string, unknown>, opts: { signal: AbortSignal; onProgress?: (x: { progress: number; message: string }) => void },
): Promise<{ text: string; isError: boolean; executionId: string; ownerId: string; data?: unknown }> {
  const owner = workflows.requireWorkflow(k, p, tool.workflowId).owner_id
  const ex = await workflows.executeWorkflow(k, { workflowId: tool.workflowId, ownerId: owner, input: args, source: 'mcp', mode: 'async', meta: { caller: p.tokenId ?? p.userId } })
  let n = 0
  for await (const e of follow(k, ex.id, 0, opts.signal, () => workflows.isUnfinished(k, ex.id))) {
    if (e.type === 'step.started' || e.type === 'step.completed' || e.type === 'step.failed') {
      opts.onProgress?.({ progress: ++n, message: `${e.type.slice(5)}: ${String(e.step_id)}` })
    }
  }
  if (opts.signal.aborted && workflows.isUnfinished(k, ex.id)) workflows.cancelExecution(k, p, ex.id)
  const done = workflows.executionView(k, workflows.requireExecution(k, p, ex.id))
  if (done.status !== 'success') return { text: `The workflow ${done.status}: ${done.error ?? ''}`, isError: true, executionId: ex.id, ownerId: owner }
  const out = done.output_data
  return { text: typeof out === 'string' ? out : JSON.stringify(out), isError: false, executionId: ex.id, ownerId: owner, data: out }
}
