/** The shipped templates, part 1: support, sales, productivity, engineering, finance, monitoring. */
import { slack, type WorkflowTemplate } from './types'
import { MORE_TEMPLATES } from './catalog-more'

const TRIAGE_SCHEMA = {
  type: 'object', required: ['category', 'urgency', 'summary'],
  properties: { category: { type: 'string', enum: ['billing', 'bug', 'account', 'question', 'other'] }, urgency: { type: 'string', enum: ['low', 'normal', 'high'] }, summary: { type: 'string' } },
}

const BASE: WorkflowTemplate[] = [
  {
    id: 'tpl_support_triage', name: 'Support ticket triage', category: 'support', difficulty: 'beginner', required_platforms: ['slack'], tags: ['support', 'llm', 'slack'],
    description: 'Classify an incoming support message (category, urgency, one-line summary) and escalate urgent ones to a Slack channel.',
    variables: { escalation_channel: { description: 'Slack channel for urgent tickets', required: true, example: '#support-urgent' } },
    input_example: { customer: 'ada@example.com', message: 'I was charged twice this month and my account is locked!' },
    schema_version: 1,
    workflow: {
      trigger_type: 'webhook', trigger_config: {},
      steps: [
        { id: 'classify', name: 'Classify', type: 'llm', output_schema: TRIAGE_SCHEMA, prompt: 'Classify this support message from {{ input.customer }}. Message: {{ input.message }}' },
        { id: 'urgent', name: 'Urgent?', type: 'condition', condition: { left: '{{ steps.classify.urgency }}', operator: '==', right: 'high' }, on_true: 'escalate', on_false: 'queue' },
        { id: 'escalate', name: 'Escalate', ...slack('{{ vars.escalation_channel }}', ':rotating_light: {{ steps.classify.category }} from {{ input.customer }}: {{ steps.classify.summary }}'), next: 'end' },
        { id: 'queue', name: 'Queue', type: 'transform', template: { queued: true, category: '{{ steps.classify.category }}', summary: '{{ steps.classify.summary }}' } },
      ],
    },
  },
  {
    id: 'tpl_lead_enrichment', name: 'Lead enrichment and scoring', category: 'sales', difficulty: 'intermediate', required_platforms: ['slack'], tags: ['sales', 'crm', 'http', 'llm'],
    description: 'Look a new lead\'s company up in your enrichment API, score the lead with the model, and post qualified leads to Slack.',
    variables: {
      enrichment_api_url: { description: 'Enrichment endpoint; the domain is appended as ?domain=', required: true, example: 'https://enrich.example.com/companies' },
      sales_channel: { description: 'Slack channel for qualified leads', required: true, example: '#sales' },
      min_score: { description: 'Lowest score (0-100) that is posted', default: 70 },
    },
    input_example: { email: 'cto@acme.io', company_domain: 'acme.io', note: 'Asked for an enterprise demo' },
    schema_version: 1,
    workflow: {
      trigger_type: 'webhook', trigger_config: {},
      steps: [
        { id: 'lookup', name: 'Enrich company', type: 'tool', tool: 'http_request', parameters: { method: 'GET', url: '{{ vars.enrichment_api_url }}?domain={{ input.company_domain }}' }, retry: { max_attempts: 3, initial_ms: 500 }, continue_on_error: true },
        { id: 'score', name: 'Score', type: 'llm', output_schema: { type: 'object', required: ['score', 'reason'], properties: { score: { type: 'number' }, reason: { type: 'string' } } },
          prompt: 'Score this B2B lead from 0 to 100. Email: {{ input.email }}. Note: {{ input.note | default: "none" }}. Company data: {{ steps.lookup }}' },
        { id: 'qualified', type: 'condition', condition: { left: '{{ steps.score.score }}', operator: '>=', right: '{{ vars.min_score }}' }, on_true: 'post', on_false: 'end' },
        { id: 'post', name: 'Post to Slack', ...slack('{{ vars.sales_channel }}', 'New lead {{ input.email }} scored {{ steps.score.score }}: {{ steps.score.reason }}') },
      ],
    },
  },
  {
    id: 'tpl_daily_digest_slack', name: 'Daily digest to Slack', category: 'productivity', difficulty: 'beginner', required_platforms: ['slack'], tags: ['digest', 'schedule', 'slack', 'llm'],
    description: 'Every morning, fetch a feed or JSON endpoint, summarise what is new in five bullets, and post the digest to Slack.',
    variables: { feed_url: { description: 'URL of the feed or JSON API to summarise', required: true, example: 'https://news.example.com/today.json' }, channel: { description: 'Slack channel', required: true, example: '#daily' } },
    input_example: {},
    schema_version: 1,
    workflow: {
      trigger_type: 'schedule', trigger_config: { cron: '0 9 * * 1-5', timezone: 'UTC' },
      steps: [
        { id: 'fetch', type: 'tool', tool: 'http_request', parameters: { method: 'GET', url: '{{ vars.feed_url }}' }, retry: { max_attempts: 3, initial_ms: 2000 } },
        { id: 'summary', type: 'llm', prompt: 'Summarise the most important items in at most five short bullets:\n{{ steps.fetch.body }}' },
        { id: 'post', ...slack('{{ vars.channel }}', '*Daily digest*\n{{ steps.summary }}') },
      ],
    },
  },
  {
    id: 'tpl_github_issue_triage', name: 'GitHub issue triage', category: 'engineering', difficulty: 'intermediate', required_platforms: ['github', 'slack'], tags: ['github', 'issues', 'llm', 'slack'],
    description: 'Turn a bug report into a labelled GitHub issue with a priority, and ping Slack when it is critical.',
    variables: {
      owner: { description: 'Repository owner', required: true, example: 'acme' }, repo: { description: 'Repository name', required: true, example: 'api' },
      alerts_channel: { description: 'Slack channel for critical issues', required: true, example: '#eng-alerts' },
    },
    input_example: { title: 'Checkout returns 500', body: 'Since the last deploy every checkout fails with a 500 error.' },
    schema_version: 1,
    workflow: {
      trigger_type: 'webhook', trigger_config: {},
      steps: [
        { id: 'triage', type: 'llm', output_schema: { type: 'object', required: ['labels', 'priority'], properties: { labels: { type: 'array', items: { type: 'string' } }, priority: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] } } },
          prompt: 'Triage this bug report. Title: {{ input.title }}. Body: {{ input.body }}' },
        { id: 'issue', type: 'tool', tool: 'github_create_issue', parameters: { owner: '{{ vars.owner }}', repo: '{{ vars.repo }}', title: '{{ input.title }}', body: '{{ input.body }}\n\nPriority: {{ steps.triage.priority }}', labels: '{{ steps.triage.labels }}' } },
        { id: 'critical', type: 'condition', condition: { left: '{{ steps.triage.priority }}', operator: 'in', right: ['high', 'critical'] }, on_true: 'ping', on_false: 'end' },
        { id: 'ping', ...slack('{{ vars.alerts_channel }}', '{{ steps.triage.priority }} issue: {{ input.title }} {{ steps.issue.html_url | default: "" }}') },
      ],
    },
  },
  {
    id: 'tpl_invoice_extraction', name: 'Invoice extraction and approval', category: 'finance', difficulty: 'intermediate', required_platforms: ['slack'], tags: ['finance', 'extraction', 'llm', 'approval'],
    description: 'Extract vendor, number, total, currency and due date from invoice text; invoices above a threshold go to Slack for approval.',
    variables: { approval_channel: { description: 'Slack channel for approvals', required: true, example: '#finance' }, approval_threshold: { description: 'Totals above this need approval', default: 1000 } },
    input_example: { invoice_text: 'ACME Corp — Invoice INV-2041 — Total due: 2,450.00 EUR by 2026-04-30' },
    schema_version: 1,
    workflow: {
      trigger_type: 'manual', trigger_config: {},
      steps: [
        { id: 'extract', type: 'llm', output_schema: { type: 'object', required: ['vendor', 'invoice_number', 'total', 'currency'], properties: { vendor: { type: 'string' }, invoice_number: { type: 'string' }, total: { type: 'number' }, currency: { type: 'string' }, due_date: { type: ['string', 'null'] } } },
          prompt: 'Extract the invoice fields from this text: {{ input.invoice_text }}' },
        { id: 'big', type: 'condition', condition: { left: '{{ steps.extract.total }}', operator: '>', right: '{{ vars.approval_threshold }}' }, on_true: 'approve', on_false: 'record' },
        { id: 'approve', ...slack('{{ vars.approval_channel }}', 'Approval needed: {{ steps.extract.vendor }} {{ steps.extract.invoice_number }} for {{ steps.extract.total }} {{ steps.extract.currency }}'), next: 'record' },
        { id: 'record', type: 'transform', expression: '{"vendor": steps.extract.vendor, "total": steps.extract.total, "needs_approval": steps.big.result}' },
      ],
    },
  },
  {
    id: 'tpl_telegram_incident_alert', name: 'Incident alerts to Telegram', category: 'monitoring', difficulty: 'beginner', required_platforms: ['telegram'], tags: ['monitoring', 'alerts', 'telegram', 'webhook'],
    description: 'Receive monitoring webhooks and forward anything that is not OK to a Telegram chat.',
    variables: { chat_id: { description: 'Telegram chat id or @channel', required: true, example: '-1001234567890' } },
    input_example: { service: 'api', status: 'down', message: 'Health check failed 3 times' },
    schema_version: 1,
    workflow: {
      trigger_type: 'webhook', trigger_config: {},
      steps: [
        { id: 'bad', type: 'condition', condition: { left: '{{ input.status }}', operator: '!=', right: 'ok' }, on_true: 'alert', on_false: 'end' },
        { id: 'alert', type: 'tool', tool: 'telegram_send_message', parameters: { chat_id: '{{ vars.chat_id }}', text: '⚠️ {{ input.service }} is {{ input.status }}: {{ input.message | default: "no details" }}' }, retry: { max_attempts: 5, backoff: 'exponential', initial_ms: 1000, max_ms: 30000 } },
      ],
    },
  },
]

export const TEMPLATES: WorkflowTemplate[] = [...BASE, ...MORE_TEMPLATES]
