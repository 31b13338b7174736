/** The shipped templates, part 2: community, e-commerce, reporting, reminders, marketing, devops, moderation. */
import { slack, type WorkflowTemplate } from './types'

export const MORE_TEMPLATES: WorkflowTemplate[] = [
  {
    id: 'tpl_discord_release_notes', name: 'Release notes to Discord', category: 'community', difficulty: 'beginner', required_platforms: ['discord'], tags: ['discord', 'release', 'llm'],
    description: 'Turn a raw change list into friendly release notes and announce them in a Discord channel.',
    variables: { channel_id: { description: 'Discord channel id', required: true, example: '123456789012345678' } },
    input_example: { version: '2.4.0', changes: '- faster search\n- fix login loop on Safari\n- new dark theme' },
    schema_version: 1,
    workflow: {
      trigger_type: 'manual', trigger_config: {},
      steps: [
        { id: 'notes', type: 'llm', prompt: 'Write short, friendly release notes (under 1500 characters) for version {{ input.version }} from these changes:\n{{ input.changes }}' },
        { id: 'announce', type: 'tool', tool: 'discord_send_message', parameters: { channel_id: '{{ vars.channel_id }}', content: '**Release {{ input.version }}**\n{{ steps.notes }}' }, retry: { max_attempts: 3, initial_ms: 1000 } },
      ],
    },
  },
  {
    id: 'tpl_whatsapp_order_confirmation', name: 'WhatsApp order confirmation', category: 'ecommerce', difficulty: 'beginner', required_platforms: ['whatsapp'], tags: ['whatsapp', 'orders', 'ecommerce'],
    description: 'Confirm a new order to the customer on WhatsApp with its items and total.',
    variables: { shop_name: { description: 'Shop name shown in the message', required: true, example: 'Acme Store' } },
    input_example: { phone: '15551234567', order_id: 'A-1001', items: ['2x T-shirt', '1x Mug'], total: '39.90 USD' },
    schema_version: 1,
    workflow: {
      trigger_type: 'webhook', trigger_config: {},
      steps: [
        { id: 'compose', type: 'transform', expression: '"Thanks for your order " + input.order_id + " at " + vars.shop_name + "! Items: " + input.items.join(", ") + ". Total: " + input.total' },
        { id: 'send', type: 'tool', tool: 'whatsapp_send_text', parameters: { to: '{{ input.phone }}', text: '{{ steps.compose }}' }, retry: { max_attempts: 3, initial_ms: 2000 } },
      ],
    },
  },
  {
    id: 'tpl_github_open_issues_report', name: 'Open issues report', category: 'engineering', difficulty: 'intermediate', required_platforms: ['github', 'slack'], tags: ['github', 'report', 'slack', 'schedule'],
    description: 'Every Monday, list a repository\'s open issues, summarise them by theme, and post the report to Slack.',
    variables: { owner: { description: 'Repository owner', required: true, example: 'acme' }, repo: { description: 'Repository name', required: true, example: 'api' }, channel: { description: 'Slack channel', required: true, example: '#eng' } },
    input_example: {},
    schema_version: 1,
    workflow: {
      trigger_type: 'schedule', trigger_config: { cron: '0 9 * * 1', timezone: 'UTC' },
      steps: [
        { id: 'issues', type: 'tool', tool: 'github_list_issues', parameters: { owner: '{{ vars.owner }}', repo: '{{ vars.repo }}', state: 'open', per_page: 50 } },
        { id: 'count', type: 'transform', expression: 'size(steps.issues)' },
        { id: 'summary', type: 'llm', prompt: 'Group these open issues into themes and name the three most urgent: {{ steps.issues }}' },
        { id: 'post', ...slack('{{ vars.channel }}', '*{{ vars.owner }}/{{ vars.repo }}*: {{ steps.count }} open issues\n{{ steps.summary }}') },
      ],
    },
  },
  {
    id: 'tpl_standup_reminder', name: 'Stand-up reminder', category: 'productivity', difficulty: 'beginner', required_platforms: ['slack'], tags: ['slack', 'schedule', 'team'],
    description: 'Remind the team in Slack to post their stand-up, with today\'s date in your time zone.',
    variables: { channel: { description: 'Slack channel', required: true, example: '#team' }, timezone: { description: 'IANA time zone', default: 'UTC' } },
    input_example: {},
    schema_version: 1,
    workflow: {
      trigger_type: 'schedule', trigger_config: { cron: '30 9 * * 1-5', timezone: 'UTC' },
      steps: [
        { id: 'now', type: 'tool', tool: 'current_time', parameters: { timezone: '{{ vars.timezone }}' } },
        { id: 'remind', ...slack('{{ vars.channel }}', ':wave: Stand-up time ({{ steps.now.weekday }}): what did you do, what is next, anything blocking?') },
      ],
    },
  },
  {
    id: 'tpl_telegram_broadcast', name: 'Telegram broadcast', category: 'marketing', difficulty: 'intermediate', required_platforms: ['telegram'], tags: ['telegram', 'loop', 'broadcast'],
    description: 'Send a personalised message to a list of Telegram chats, one at a time, with retries per recipient.',
    variables: { sign_off: { description: 'Signature appended to every message', default: '— The team' } },
    input_example: { message: 'Our spring sale starts today!', recipients: [{ chat_id: '1001', name: 'Ada' }, { chat_id: '1002', name: 'Linus' }] },
    schema_version: 1,
    workflow: {
      trigger_type: 'manual', trigger_config: {},
      steps: [
        { id: 'send', type: 'loop', items: '{{ input.recipients }}', max_items: 500,
          step: { type: 'tool', tool: 'telegram_send_message', parameters: { chat_id: '{{ each.item.chat_id }}', text: 'Hi {{ each.item.name }}! {{ input.message }} {{ vars.sign_off }}' }, retry: { max_attempts: 3, initial_ms: 1000 } } },
        { id: 'report', type: 'transform', expression: '{"sent": size(steps.send)}' },
      ],
    },
  },
  {
    id: 'tpl_uptime_check', name: 'Uptime check with Slack alert', category: 'devops', difficulty: 'intermediate', required_platforms: ['slack'], tags: ['monitoring', 'http', 'slack', 'schedule'],
    description: 'Check a URL every few minutes (with retries) and alert Slack when it is down.',
    variables: { url: { description: 'URL to check', required: true, example: 'https://status.example.com/health' }, channel: { description: 'Slack channel', required: true, example: '#ops' } },
    input_example: {},
    schema_version: 1,
    workflow: {
      trigger_type: 'schedule', trigger_config: { interval_seconds: 300 },
      steps: [
        { id: 'probe', type: 'tool', tool: 'http_request', parameters: { method: 'GET', url: '{{ vars.url }}' }, retry: { max_attempts: 3, backoff: 'exponential', initial_ms: 2000 }, timeout_ms: 20000, continue_on_error: true },
        { id: 'down', type: 'condition', condition: { left: '{{ steps.probe.error | default: "" }}', operator: 'empty' }, on_true: 'end', on_false: 'alert' },
        { id: 'alert', ...slack('{{ vars.channel }}', ':red_circle: {{ vars.url }} is down: {{ steps.probe.error }}') },
      ],
    },
  },
  {
    id: 'tpl_content_moderation', name: 'Content moderation', category: 'community', difficulty: 'advanced', required_platforms: ['discord'], tags: ['moderation', 'llm', 'discord', 'event'],
    description: 'Check every message a bot receives against your rules and flag violations to a moderators\' Discord channel.',
    variables: { mod_channel_id: { description: 'Discord channel id for moderators', required: true, example: '123456789012345678' }, rules: { description: 'Community rules', default: 'No harassment, no spam, no personal data.' } },
    input_example: { bot_id: 'bt_example', conversation_id: 'bconv_example', platform: 'telegram', user_name: 'spammer', text: 'Buy cheap followers now at spam.example!!!' },
    schema_version: 1,
    workflow: {
      trigger_type: 'event', trigger_config: { event: 'bot.message.received' },
      steps: [
        { id: 'review', type: 'llm', output_schema: { type: 'object', required: ['flagged', 'reason'], properties: { flagged: { type: 'boolean' }, reason: { type: 'string' } } },
          prompt: 'Rules: {{ vars.rules }}\nDoes this message break them? Message: {{ input.text }}' },
        { id: 'flagged', type: 'condition', condition: { left: '{{ steps.review.flagged }}', operator: '==', right: true }, on_true: 'flag', on_false: 'end' },
        { id: 'flag', type: 'tool', tool: 'discord_send_message', parameters: { channel_id: '{{ vars.mod_channel_id }}', content: 'Flagged message from {{ input.user_name | default: "unknown" }} on {{ input.platform | default: "a bot" }}: "{{ input.text }}" ({{ steps.review.reason }})' } },
      ],
    },
  },
]
