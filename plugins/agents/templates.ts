import type { AgentConfigInput, ScheduleConfigInput } from './model'

/**
 * Ready agent configurations: a workflow template (GET /api/templates) plus the agent_config and the
 * schedule_config that make it autonomous. Use: POST /api/templates/:workflow_template_id/use, then
 * POST /api/agents with the new workflow and this agent_config, then POST /api/agents/schedule.
 */
export interface AgentTemplate {
  id: string; name: string; description: string; category: string; workflow_template_id: string
  required_platforms: string[]; agent_config: AgentConfigInput; schedule_config: ScheduleConfigInput
}

export const AGENT_TEMPLATES: AgentTemplate[] = [
  {
    id: 'agent_daily_digest', name: 'Daily Slack digest', category: 'reporting', workflow_template_id: 'daily-digest-slack', required_platforms: ['slack'],
    description: 'Every weekday at 08:30 local time, summarises what happened yesterday and posts it to a Slack channel.',
    agent_config: { instructions: 'Write a short, skimmable digest: at most 8 bullet points, most important first.' },
    schedule_config: { type: 'cron', cron: '30 8 * * 1-5', timezone: 'Europe/Berlin', overlap_policy: 'skip', catchup_policy: 'latest', catchup_window_seconds: 4 * 3600, pause_after_failures: 5 },
  },
  {
    id: 'agent_github_issue_triage', name: 'GitHub issue triage', category: 'engineering', workflow_template_id: 'github-issue-triage', required_platforms: ['github'],
    description: 'Every 15 minutes, labels new GitHub issues by type and priority and asks for missing reproduction steps.',
    agent_config: { instructions: 'Be conservative: label only when confident; never close issues.' },
    schedule_config: { type: 'interval', interval_seconds: 900, jitter_seconds: 60, overlap_policy: 'skip', catchup_policy: 'latest', pause_after_failures: 10 },
  },
  {
    id: 'agent_support_triage', name: 'Support inbox triage', category: 'support', workflow_template_id: 'support-triage', required_platforms: [],
    description: 'Every 5 minutes, classifies new support messages by urgency and topic and drafts a first answer.',
    agent_config: { instructions: 'Escalate anything about billing, security or data loss as urgent.' },
    schedule_config: { type: 'interval', interval_seconds: 300, overlap_policy: 'buffer_one', catchup_policy: 'latest', pause_after_failures: 10 },
  },
  {
    id: 'agent_lead_enrichment', name: 'Lead enrichment', category: 'sales', workflow_template_id: 'lead-enrichment', required_platforms: [],
    description: 'Hourly during business hours, enriches new leads with company size, industry and a fit score.',
    agent_config: { instructions: 'Score fit from 0 to 100; explain the score in one sentence.', budgets: { max_tokens: 20_000 } },
    schedule_config: { type: 'cron', cron: '0 9-18 * * 1-5', timezone: 'America/New_York', overlap_policy: 'skip', catchup_policy: 'none' },
  },
  {
    id: 'agent_invoice_extraction', name: 'Invoice extraction', category: 'finance', workflow_template_id: 'invoice-extraction', required_platforms: [],
    description: 'Nightly at 02:00 UTC, extracts totals, dates and vendors from the invoices received that day; every missed night is caught up.',
    agent_config: { instructions: 'Never guess amounts: leave a field empty when it is not legible.' },
    schedule_config: { type: 'cron', cron: '0 2 * * *', timezone: 'UTC', overlap_policy: 'buffer_all', catchup_policy: 'all', catchup_window_seconds: 7 * 86_400 },
  },
  {
    id: 'agent_weekly_report', name: 'Weekly metrics report', category: 'reporting', workflow_template_id: 'weekly-report', required_platforms: [],
    description: 'Mondays at 07:00 in Tokyo, writes a one-page report of last week\'s key metrics with notable changes.',
    agent_config: { instructions: 'Compare with the previous week and call out changes above 10 %.' },
    schedule_config: { type: 'cron', cron: '0 7 * * 1', timezone: 'Asia/Tokyo', overlap_policy: 'skip', catchup_policy: 'latest', catchup_window_seconds: 86_400 },
  },
]
