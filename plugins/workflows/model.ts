/** Elysia schemas of the workflow routes (and so of the OpenAPI document). Step shapes are checked in validate.ts. */
import { t } from 'elysia'

const Obj = (description: string) => t.Record(t.String(), t.Any(), { description })

export const WorkflowParams = t.Object({ id: t.String({ minLength: 1, maxLength: 100 }) })
export const ExecutionParams = t.Object({ execution_id: t.String({ minLength: 1, maxLength: 100 }) })

export const GenerateBody = t.Object({
  description: t.String({ minLength: 3, maxLength: 5000, description: 'What the workflow should do, in plain language' }),
  name: t.Optional(t.Nullable(t.String({ maxLength: 200, description: 'Optional; a short name is generated when omitted' }))),
  workspace_id: t.Optional(t.Nullable(t.String({ maxLength: 100 }))),
})

const fields = {
  name: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
  description: t.Optional(t.String({ maxLength: 10_000 })),
  status: t.Optional(t.String({ description: 'draft | active | paused | archived' })),
  trigger_type: t.Optional(t.String({ description: 'manual | schedule | webhook | event' })),
  trigger_config: t.Optional(Obj('Trigger settings: { event, filter } for event triggers')),
  variables: t.Optional(Obj('Workflow variables, the `vars` root of placeholders')),
  steps: t.Optional(t.Array(t.Any(), { description: 'Steps in order: { id, name, type: tool|llm|condition|transform|delay|loop, ... }' })),
  workflow_metadata: t.Optional(Obj('Free-form metadata for categorisation or UI rendering')),
  is_template: t.Optional(t.Boolean()),
}

export const UpdateBody = t.Object(fields, { additionalProperties: false })
export const FromStepsBody = t.Object({ ...fields, name: t.String({ minLength: 1, maxLength: 200 }), steps: t.Array(t.Any()), workspace_id: t.Optional(t.Nullable(t.String())) }, { additionalProperties: false })

export const ExecuteBody = t.Object({
  input_data: t.Optional(Obj('Input for the `input` root of placeholders')),
  mode: t.Optional(t.Union([t.Literal('sync'), t.Literal('async'), t.Literal('stream')], { description: 'sync (default): the finished execution; async: 202 with status and events URLs; stream: SSE' })),
})

export const TestConditionBody = t.Object({ condition: t.Any({ description: '{ left, operator, right }, { and|or: [...] }, { not }, or { expression }' }), context: Obj('input, steps, vars, trigger') })
export const TestSubstitutionBody = t.Object({ parameters: t.Any({ description: 'Values with {{ path }} placeholders' }), context: Obj('input, steps, vars, trigger') })

export const ListQuery = t.Object({ limit: t.Optional(t.Numeric({ minimum: 1, maximum: 500 })) })

export const ExtractBody = t.Object({
  conversation_id: t.String({ minLength: 1, maxLength: 100 }),
  workflow_name: t.String({ minLength: 1, maxLength: 200 }),
  description: t.Optional(t.String({ maxLength: 10_000 })),
  selected_step_ids: t.Optional(t.Array(t.String({ maxLength: 100 }), { maxItems: 100, description: 'step_N ids (or tool call ids) from the tool-calls preview; default: every successful call' })),
  parameterize_fields: t.Optional(t.Array(t.String({ maxLength: 200 }), { maxItems: 100, description: 'Arguments that become {{ input.<name> }}: "channel" (every step) or "step_2.channel"' })),
  trigger_type: t.Optional(t.String()),
  trigger_config: t.Optional(Obj('Trigger settings')),
}, { additionalProperties: false })
export const ConversationParams = t.Object({ conversation_id: t.String({ minLength: 1, maxLength: 100 }) })
