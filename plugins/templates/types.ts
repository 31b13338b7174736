/** A workflow template embedded in the binary (issue 13). `schema_version` versions this shape. */
export interface TemplateVariable { description: string; required?: boolean; default?: unknown; example?: unknown }

export interface WorkflowTemplate {
  id: string
  name: string
  description: string
  category: string
  difficulty: 'beginner' | 'intermediate' | 'advanced'
  /** Connection platforms the workflow's tools need (POST /api/connections). */
  required_platforms: string[]
  tags: string[]
  /** Values the user supplies at `use` (they become the workflow's `vars`). */
  variables: Record<string, TemplateVariable>
  /** What an execution expects as input_data, with an example (also used by dry runs). */
  input_example: Record<string, unknown>
  schema_version: 1
  workflow: { trigger_type: 'manual' | 'schedule' | 'webhook' | 'event'; trigger_config: Record<string, unknown>; steps: unknown[] }
}

export const slack = (channel: string, text: string, extra: Record<string, unknown> = {}) =>
  ({ type: 'tool', tool: 'slack_send_message', parameters: { channel, text }, retry: { max_attempts: 3, backoff: 'exponential', initial_ms: 1000 }, ...extra })
