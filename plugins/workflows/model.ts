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

// Responses (they are also what Elysia keeps of an answer: every field the services return is listed).
const Json = t.Any()
const JsonObj = t.Record(t.String(), t.Any())

export const Workflow = t.Object({
  id: t.String(), name: t.String(), description: t.String(), status: t.String(), version: t.Integer(), is_template: t.Boolean(),
  trigger_type: t.String(), trigger_config: JsonObj, variables: JsonObj, workflow_metadata: JsonObj, workspace_id: t.Nullable(t.String()),
  created_at: t.String(), updated_at: t.String(), steps: t.Array(Json),
  webhook: t.Optional(t.Object({
    url: t.String(), secret_header: t.String(), has_secret: t.Boolean(),
    secret: t.Optional(t.String({ description: 'Shown only in the response that minted it' })),
  })),
})
export const WorkflowList = t.Array(Workflow)

export const StepAttempt = t.Object({
  step_id: t.String(), step_type: t.String(), position: t.Integer(), iteration: t.Optional(t.Integer()), attempt: t.Integer(), status: t.String(),
  idempotency_key: t.String(), input: Json, output: Json, error: t.Nullable(t.String()), started_at: t.String(), finished_at: t.Nullable(t.String()),
})

export const Execution = t.Object({
  id: t.String(), execution_id: t.String(), workflow_id: t.String(), version: t.Integer(), status: t.String(), source: t.String(), mode: t.String(),
  input_data: JsonObj, trigger: Json, meta: JsonObj, output_data: Json, step_results: JsonObj, error: t.Nullable(t.String()), error_step: t.Nullable(t.String()),
  current_step: t.Nullable(t.String()), wake_at: t.Nullable(t.String()), started_at: t.Nullable(t.String()), finished_at: t.Nullable(t.String()),
  created_at: t.String(), updated_at: t.String(), status_url: t.String(), events_url: t.String(),
  steps: t.Optional(t.Array(StepAttempt, { description: 'Every step attempt (single execution views)' })),
})
export const ExecutionList = t.Array(Execution)
export const Queued = t.Object({ execution_id: t.String(), status: t.String(), status_url: t.String(), events_url: t.Optional(t.String()) })
export const Sse = t.String({ description: 'text/event-stream (DESIGN §6): run.started, step.started / step.completed / step.failed, the llm steps\' run events, then run.completed or run.failed' })

export const Version = t.Object({
  version: t.Integer(), current: t.Boolean(), steps: t.Array(Json), trigger_type: t.String(), trigger_config: JsonObj, variables: JsonObj, created_at: t.String(),
})
export const Deleted = t.Object({ deleted: t.Boolean() })
export const ConditionResult = t.Object({ result: t.Boolean(), evaluated_value: Json, expected_value: Json, operator: t.String() })
export const SubstitutionResult = t.Object({
  original_parameters: Json, substituted_parameters: Json,
  substitutions_made: t.Array(t.Object({ placeholder: t.String(), path: t.String(), value: Json, defaulted: t.Optional(t.Boolean()) })),
})
export const ToolCallStep = t.Object({
  step_id: t.String(), name: t.String(), arguments: Json, result: t.String(), is_error: t.Boolean(), tool_call_id: t.String(),
  assistant_message_id: t.Nullable(t.String()), tool_message_id: t.String(), created_at: t.String(),
})
export const ChatAgent = t.Object({ workflow: Workflow, conversation: JsonObj, tool_name: t.String() })
