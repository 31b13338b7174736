/**
 * Bots' `workflow_json` / `workflow_enabled` (issue 13): a bot whose workflow_json is `{ steps, variables? }`
 * answers through this engine instead of the model. Each bot has one workflow row (id `wf_` + the bot id's
 * body, metadata `bot_id`), kept in step with workflow_json (a change makes a new version), executed
 * synchronously per message with the message as input. The reply is the output when it is text, else its
 * `reply` / `text` field, else the output as JSON.
 */
import type { Kernel } from '../../src/kernel'
import { nowIso } from '../../src/clock'
import { badRequest } from '../../src/http/errors'
import { workflowsStore, type WorkflowRow } from './store'
import { executeWorkflow } from './service'
import { stepProblems, throwProblems } from './validate'

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)

/** Whether workflow_json is in this engine's shape (`{ steps: [...] }`) rather than the older node/edge shape. */
export const isStepsWorkflow = (w: unknown): w is { steps: unknown[]; variables?: Record<string, unknown> } => isObj(w) && Array.isArray(w.steps)

/** Structural validation (tools are checked when a message runs it: an unknown tool answers the fallback). */
export function validateBotWorkflow(w: unknown) {
  if (!isStepsWorkflow(w)) throw badRequest('workflow_json must be { "steps": [...] } to be enabled (the workflow step format of /api/workflows)', { workflow_json: 'must have steps' })
  if (w.variables !== undefined && !isObj(w.variables)) throw badRequest('workflow_json.variables must be an object', { 'workflow_json.variables': 'must be an object' })
  if (!w.steps.length) throw badRequest('workflow_json.steps must have at least one step', { 'workflow_json.steps': 'must not be empty' })
  const p = stepProblems(w.steps, null)
  throwProblems(Object.fromEntries(Object.entries(p).map(([f, m]) => [`workflow_json.${f}`, m])))
}

export const botWorkflowId = (botId: string) => `wf_${botId.replace(/^bt_/, '')}`

function ensureWorkflow(k: Kernel, bot: { id: string; name: string; owner_id: string; workspace_id: string | null }, w: { steps: unknown[]; variables?: Record<string, unknown> }): WorkflowRow {
  const store = workflowsStore(k.db)
  const id = botWorkflowId(bot.id)
  const steps = JSON.stringify(w.steps)
  const variables = JSON.stringify(w.variables ?? {})
  const now = nowIso(k.clock)
  const row = store.get(id)
  if (row && row.steps === steps && row.variables === variables) return row
  const next: WorkflowRow = row
    ? { ...row, steps, variables, version: row.version + 1, updated_at: now }
    : {
      id, owner_id: bot.owner_id, workspace_id: bot.workspace_id, name: `Bot: ${bot.name}`.slice(0, 200), description: `The workflow of bot ${bot.id}`, status: 'active',
      version: 1, is_template: 0, trigger_type: 'manual', trigger_config: '{}', variables, workflow_metadata: JSON.stringify({ bot_id: bot.id }), steps, hook_secret: null,
      created_at: now, updated_at: now,
    }
  k.db.transaction(() => {
    if (row) store.update(next)
    else store.insert(next)
    store.insertVersion({ workflow_id: id, version: next.version, steps, trigger_type: next.trigger_type, trigger_config: next.trigger_config, variables, created_at: now })
  })()
  return next
}

export interface BotMessage { text: string; chat_id: string; user_id: string; user_name: string | null; conversation_id: string; platform: string }

/** Runs the bot's workflow for one message; resolves with the reply text or the failure. */
export async function answerWithWorkflow(k: Kernel, bot: { id: string; name: string; owner_id: string; workspace_id: string | null; workflow_json: unknown }, msg: BotMessage) {
  if (!isStepsWorkflow(bot.workflow_json)) return { text: '', executionId: null, error: { message: 'The bot has no workflow steps', code: 'workflow_invalid', status: 400 } }
  const wf = ensureWorkflow(k, bot, bot.workflow_json)
  const ex = await executeWorkflow(k, { workflowId: wf.id, ownerId: bot.owner_id, input: { ...msg }, source: 'bot', mode: 'sync', trigger: { type: 'bot', bot_id: bot.id } })
  if (ex.status !== 'success') return { text: '', executionId: ex.id, error: { message: ex.error ?? `The workflow ${ex.status}`, code: 'workflow_failed', status: 502 } }
  const out = ex.output_data as unknown
  const text = typeof out === 'string' ? out : isObj(out) && typeof (out.reply ?? out.text) === 'string' ? String(out.reply ?? out.text) : JSON.stringify(out)
  return { text, executionId: ex.id, error: text.trim() ? null : { message: 'The workflow produced an empty reply', code: 'empty_answer', status: 502 } }
}
