import { workflowTemplates, type WorkflowTemplate } from '../templates/service'
import type { AgentConfigInput, ScheduleConfigInput } from './model'

/**
 * Ready agent configurations built on the workflow templates (GET /api/templates): the template's workflow
 * (POST /api/templates/:id/use creates it), plus the agent_config and schedule_config that make it
 * autonomous. Schedules come from the template's own trigger; the policies and instructions from here.
 */
export interface AgentTemplate {
  id: string; name: string; description: string; category: string; required_platforms: string[]
  workflow_template_id: string; workflow_template: { id: string; name: string; difficulty: string }
  agent_config: AgentConfigInput; schedule_config: ScheduleConfigInput
}

interface Tuning { id: string; name: string; description: string; template: string; instructions: string; schedule?: Partial<ScheduleConfigInput> }

const TUNINGS: Tuning[] = [
  {
    id: 'agent_daily_digest', name: 'Daily Slack digest', template: 'tpl_daily_digest_slack',
    description: 'Every weekday morning, summarises the day\'s items and posts the digest to Slack; a morning missed while the server was down is caught up within 4 hours, never later.',
    instructions: 'Write a short, skimmable digest: at most 8 bullet points, most important first.',
    schedule: { overlap_policy: 'skip', catchup_policy: 'latest', catchup_window_seconds: 4 * 3600, pause_after_failures: 5 },
  },
  {
    id: 'agent_open_issues_report', name: 'Weekly open issues report', template: 'tpl_github_open_issues_report',
    description: 'Mondays, reports the open GitHub issues of a repository to Slack; pauses itself after 3 failures in a row (a revoked token, a renamed repository).',
    instructions: 'Group issues by label; call out anything open for more than 30 days.',
    schedule: { overlap_policy: 'skip', catchup_policy: 'latest', catchup_window_seconds: 86_400, pause_after_failures: 3 },
  },
  {
    id: 'agent_standup_reminder', name: 'Stand-up reminder', template: 'tpl_standup_reminder',
    description: 'Weekday stand-up reminders in Slack; a reminder that is late is useless, so missed ones are skipped (catch-up none).',
    instructions: 'Keep it to one friendly sentence.',
    schedule: { overlap_policy: 'skip', catchup_policy: 'none' },
  },
  {
    id: 'agent_uptime_monitor', name: 'Uptime monitor', template: 'tpl_uptime_check',
    description: 'Checks a URL every 5 minutes and alerts Slack when it is down; checks never pile up (skip) and are spread with 30 s of jitter.',
    instructions: 'Alert only on a failed check; include the status code and latency.',
    schedule: { overlap_policy: 'skip', catchup_policy: 'latest', jitter_seconds: 30, pause_after_failures: 20 },
  },
  {
    id: 'agent_weekly_broadcast', name: 'Weekly Telegram broadcast', template: 'tpl_telegram_broadcast',
    description: 'Sends the weekly announcement to a Telegram list on Fridays at 10:00 Berlin time; a broadcast is never sent twice (buffer_one, catch-up latest within 6 hours).',
    instructions: 'Personalise the greeting with the recipient\'s name; keep the message under 500 characters.',
    schedule: { type: 'cron', cron: '0 10 * * 5', timezone: 'Europe/Berlin', overlap_policy: 'buffer_one', catchup_policy: 'latest', catchup_window_seconds: 6 * 3600 },
  },
]

function scheduleOf(t: WorkflowTemplate, extra: Partial<ScheduleConfigInput> = {}): ScheduleConfigInput {
  const c = t.workflow.trigger_config as { cron?: string; timezone?: string; interval_seconds?: number }
  const base: ScheduleConfigInput = c.interval_seconds ? { type: 'interval', interval_seconds: c.interval_seconds } : { type: 'cron', cron: c.cron ?? '0 9 * * 1-5', timezone: c.timezone ?? 'UTC' }
  return { ...base, ...extra } as ScheduleConfigInput
}

export function agentTemplates(): AgentTemplate[] {
  const out: AgentTemplate[] = []
  for (const x of TUNINGS) {
    const t = workflowTemplates().find((w) => w.id === x.template)
    if (!t) continue
    out.push({
      id: x.id, name: x.name, description: x.description, category: t.category, required_platforms: t.required_platforms,
      workflow_template_id: t.id, workflow_template: { id: t.id, name: t.name, difficulty: t.difficulty },
      agent_config: { instructions: x.instructions, input_data: t.input_example },
      schedule_config: scheduleOf(t, x.schedule),
    })
  }
  return out
}
