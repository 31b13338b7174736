/**
 * Templates (/api/templates): the embedded catalog, filters, and `use`: check the caller's connections and
 * tool catalog first (answering what is missing, by platform), then create the workflow, or dry-run it.
 */
import type { Kernel } from '../../src/kernel'
import type { Principal } from '../../src/auth/principal'
import { ApiError, badRequest } from '../../src/http/errors'
import * as workflows from '../workflows/service'
import { dryRun, type Step } from '../workflows/service'
import { TEMPLATES } from './catalog'
import type { WorkflowTemplate } from './types'

export type { WorkflowTemplate }

export const workflowTemplates = () => TEMPLATES

export interface TemplateFilter { category?: string | null; difficulty?: string | null; search?: string | null; connection?: string | null }

export function list(f: TemplateFilter): WorkflowTemplate[] {
  const q = f.search?.trim().toLowerCase()
  return TEMPLATES.filter((t) => (!f.category || t.category === f.category.toLowerCase())
    && (!f.difficulty || t.difficulty === f.difficulty.toLowerCase())
    && (!f.connection || t.required_platforms.includes(f.connection.toLowerCase()))
    && (!q || [t.name, t.description, t.category, ...t.tags].some((s) => s.toLowerCase().includes(q))))
}

export function categories() {
  const counts = new Map<string, number>()
  for (const t of TEMPLATES) counts.set(t.category, (counts.get(t.category) ?? 0) + 1)
  return [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => a.name.localeCompare(b.name))
}

export function get(id: string): WorkflowTemplate {
  const t = TEMPLATES.find((x) => x.id === id)
  if (!t) throw new ApiError(404, 'Template not found', 'not_found')
  return t
}

const toolsOf = (steps: unknown[]): string[] => (steps as Step[]).flatMap((s) => [s.tool, s.step?.tool]).filter((x): x is string => !!x)

export interface UseInput { name?: string; variables?: Record<string, unknown>; workspace_id?: string | null; input_data?: Record<string, unknown>; status?: string }

/** What the caller lacks to run a template: platforms without an active connection, tools not in the catalog. */
export async function missingFor(k: Kernel, who: Principal, t: WorkflowTemplate, workspaceId: string | null) {
  const catalog = await workflows.toolInfo(k, who.userId, workspaceId)
  const missing: Array<{ platform: string; reason: string; fix: string }> = []
  for (const p of t.required_platforms) {
    if (![...catalog.values()].some((x) => x.platform === p && x.available)) {
      missing.push({ platform: p, reason: `No active ${p} connection`, fix: `POST /api/connections with platform "${p}"` })
    }
  }
  const missingTools = toolsOf(t.workflow.steps).filter((name) => !catalog.get(name)?.available)
  return { missing, missingTools: [...new Set(missingTools)] }
}

function variablesFor(t: WorkflowTemplate, given: Record<string, unknown> = {}) {
  const vars: Record<string, unknown> = {}
  const problems: Record<string, string> = {}
  for (const [name, v] of Object.entries(t.variables)) {
    if (given[name] !== undefined) vars[name] = given[name]
    else if (v.default !== undefined) vars[name] = v.default
    else if (v.required) problems[`variables.${name}`] = `is required: ${v.description}${v.example !== undefined ? ` (e.g. ${JSON.stringify(v.example)})` : ''}`
  }
  for (const name of Object.keys(given)) if (!(name in t.variables)) problems[`variables.${name}`] = `is not a variable of this template (it has ${Object.keys(t.variables).join(', ')})`
  const keys = Object.keys(problems)
  if (keys.length) throw badRequest(`${keys[0]} ${problems[keys[0]]}`, problems)
  return vars
}

export async function use(k: Kernel, who: Principal, id: string, body: UseInput, opts: { dryRun: boolean; base?: string }) {
  const t = get(id)
  const wsId = body.workspace_id ?? who.workspaceId ?? null
  const vars = variablesFor(t, body.variables)
  const { missing, missingTools } = await missingFor(k, who, t, wsId)
  if (missing.length || missingTools.length) {
    const what = missing.length ? missing.map((m) => m.platform).join(', ') : missingTools.join(', ')
    return { missing: true as const, message: `This template needs ${missing.length ? 'connections' : 'tools'} you do not have yet: ${what}`, data: { missing_connections: missing, missing_tools: missingTools } }
  }
  if (opts.dryRun) {
    const result = await dryRun(k, { ownerId: who.userId, workspaceId: wsId, steps: t.workflow.steps as Step[], input: body.input_data ?? t.input_example, vars })
    return { missing: false as const, message: `Dry run of "${t.name}": ${result.status}`, data: { dry_run: true, template_id: t.id, ...result } }
  }
  const created = await workflows.create(k, who, {
    name: body.name ?? t.name, description: t.description, status: body.status ?? 'draft', trigger_type: t.workflow.trigger_type,
    trigger_config: t.workflow.trigger_config, variables: vars, steps: t.workflow.steps, workspace_id: wsId,
    workflow_metadata: { template_id: t.id, template_schema_version: t.schema_version, category: t.category, input_example: t.input_example },
  }, { base: opts.base })
  return { missing: false as const, message: `Workflow "${created.name}" created from template "${t.name}"`, data: created }
}
