/**
 * Workflows offered as tools: an active workflow whose workflow_metadata.expose_as_tool is true appears in its
 * owner's tool catalog as `workflow_<name>`; a call runs it synchronously (source `chat` when a chat turn calls
 * it) and returns its output. A workflow step cannot call workflow tools (no recursion).
 */
import type { Kernel } from '../../src/kernel'
import { registerToolProvider, toolSlug, type ProvidedTool } from '../../src/tools/workspace-tools'
import { workflowsStore } from './store'
import { executeWorkflow } from './service'

export const toolNameOf = (w: { id: string; name: string }) => `workflow_${toolSlug(w.name)}`.slice(0, 60)

export function registerWorkflowTools(k: Kernel) {
  registerToolProvider(k, {
    name: 'workflows',
    order: 30,
    async tools(ownerId, workspaceId) {
      const out: ProvidedTool[] = []
      for (const w of workflowsStore(k.db).list(ownerId, null)) {
        if (w.status !== 'active' || (workspaceId && w.workspace_id && w.workspace_id !== workspaceId)) continue
        const meta = JSON.parse(w.workflow_metadata) as { expose_as_tool?: boolean; input_schema?: Record<string, unknown> }
        if (!meta.expose_as_tool) continue
        out.push({
          name: toolNameOf(w), description: `Run the workflow "${w.name}": ${w.description}`.slice(0, 1000), source: `workflow:${w.id}`, kind: 'builtin', available: true,
          inputSchema: meta.input_schema ?? { type: 'object', description: 'The workflow input (input_data)', additionalProperties: true },
          async run(args, ctx) {
            if (ctx.surface === 'workflow') return { content: 'A workflow step cannot run another workflow as a tool', isError: true }
            const ex = await executeWorkflow(k, { workflowId: w.id, ownerId, input: args, source: ctx.surface === 'chat' ? 'chat' : 'tool', mode: 'sync', meta: { run_id: ctx.runId ?? null } })
            if (ex.status !== 'success') return { content: `The workflow ${ex.status}: ${ex.error ?? ''}`, isError: true, data: { execution_id: ex.id, status: ex.status } }
            return { content: typeof ex.output_data === 'string' ? ex.output_data : JSON.stringify(ex.output_data), data: { execution_id: ex.id, output: ex.output_data } }
          },
        })
      }
      return out
    },
  })
}
