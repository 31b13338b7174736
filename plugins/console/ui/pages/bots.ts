import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { api } from '../api'
import { Badge, ErrorNote, Field, Loading, Page, Panel, Stat, Table, formValues, useAction, useLoad } from '../components'
import { ago, cents, when } from '../format'
import { go, workspaceId } from '../state'
import { NeedWorkspace } from './workspace'

interface Bot {
  id: string; name: string; platform: string; status: string; llm_provider: string; llm_model: string;
  webhook_url?: string; has_platform_config: boolean; conversation_count: number; last_active_at: string | null;
  total_cost_cents: number;
}
interface Conversation {
  id: string; platform_user_name: string | null; platform_user_id: string; message_count: number;
  total_cost_cents: number; last_message_at: string; status: string;
}

const PLATFORMS = ['custom', 'telegram', 'discord', 'slack', 'whatsapp']
/** Required credentials per platform (see PlatformConfig in the API docs). */
const CREDENTIALS: Record<string, string[]> = {
  custom: [], telegram: ['bot_token'], discord: ['application_id', 'public_key', 'bot_token'],
  slack: ['bot_token', 'signing_secret'], whatsapp: ['access_token', 'phone_number_id', 'app_secret', 'verify_token'],
}

export function Bots() {
  const list = useLoad(() => api<{ bots: Bot[] }>('/api/bots'))
  const [platform, setPlatform] = useState('custom')
  const create = useAction(async (v: Record<string, string>) => {
    const platform_config = Object.fromEntries(CREDENTIALS[platform].filter((f) => v[f]).map((f) => [f, v[f]]))
    const body = {
      name: v.name, platform, workspace_id: workspaceId.value, system_prompt: v.system_prompt, llm_provider: v.provider, llm_model: v.model,
      ...(Object.keys(platform_config).length ? { platform_config } : {}),
    }
    const r = await api<{ bot: Bot }>('/api/bots', { method: 'POST', body })
    go(`/bots/${r.bot.id}`)
  })
  return html`<${Page} title="Bots">
    <${NeedWorkspace}>
      <${Panel} title="New bot">
        <form class="grid" onSubmit=${(e: Event) => create.run(formValues(e))}>
          <${Field} label="Name"><input name="name" required maxlength="100" /><//>
          <${Field} label="Platform"><select name="platform" value=${platform} onChange=${(e: Event) => setPlatform((e.target as HTMLSelectElement).value)}>${PLATFORMS.map((p) => html`<option>${p}</option>`)}</select><//>
          ${CREDENTIALS[platform].map((f) => html`<${Field} label=${f}><input name=${f} type="password" autocomplete="off" required=${f !== 'bot_token' || platform !== 'discord'} /><//>`)}
          <${Field} label="Provider"><select name="provider">${['openai', 'anthropic', 'gemini', 'groq', 'ollama', 'workers-ai', 'custom'].map((p) => html`<option>${p}</option>`)}</select><//>
          <${Field} label="Model"><input name="model" required value="gpt-4o-mini" /><//>
          <${Field} label="System prompt"><textarea name="system_prompt" rows="3" required></textarea><//>
          <button type="submit" disabled=${create.busy}>Create bot</button>
        </form>
        <${ErrorNote} error=${create.error} />
      <//>
    <//>
    <${ErrorNote} error=${list.error} />
    <${Table} label="Bots" rows=${list.data?.bots} empty="No bots yet."
      columns=${[
        { label: 'Name', render: (b: Bot) => html`<a href=${`#/bots/${b.id}`}>${b.name}</a>` },
        { label: 'Platform', render: (b: Bot) => b.platform },
        { label: 'Status', render: (b: Bot) => html`<${Badge} status=${b.status} />` },
        { label: 'Conversations', render: (b: Bot) => b.conversation_count },
        { label: 'Cost', render: (b: Bot) => cents(b.total_cost_cents) },
        { label: 'Last active', render: (b: Bot) => ago(b.last_active_at) },
      ]} />
  <//>`
}

interface BotMessage { id: string; role: string; content: string; tool_calls: unknown[]; error: string | null; created_at: string }

/** One conversation's latest messages, opened from the list. */
function ConversationMessages({ botId, convId }: { botId: string; convId: string }) {
  const detail = useLoad(() => api<{ messages: BotMessage[] }>(`/api/bots/${botId}/conversations/${convId}?limit=50`), [convId])
  if (detail.error) return html`<${ErrorNote} error=${detail.error} />`
  if (!detail.data) return html`<${Loading} />`
  return html`<ol class="messages" aria-label="Messages">${detail.data.messages.map((m) => html`<li class=${`msg ${m.role}`}>
    <span class="role">${m.role} · ${when(m.created_at)}${m.tool_calls.length ? ` · ${m.tool_calls.length} tool calls` : ''}</span>
    <div class="content">${m.content}</div>${m.error ? html`<p class="note error">${m.error}</p>` : null}</li>`)}</ol>`
}

export function BotDetail({ id }: { id: string }) {
  const [openConv, setOpenConv] = useState<string | null>(null)
  const bot = useLoad(() => api<{ bot: Bot }>(`/api/bots/${id}`), [id])
  const conversations = useLoad(() => api<{ conversations: Conversation[] }>(`/api/bots/${id}/conversations?limit=20`), [id])
  const analytics = useLoad(() => api<any>(`/api/bots/${id}/analytics`), [id])
  const insights = useLoad(() => api<any>(`/api/bots/${id}/insights`), [id])
  const [activation, setActivation] = useState<{ webhook_url: string; warnings: string[]; manual_setup_required: boolean } | null>(null)
  const [reply, setReply] = useState<any>(null)
  const toggle = useAction(async (to: 'activate' | 'pause') => {
    const r = await api<any>(`/api/bots/${id}/${to}`, { method: 'POST' })
    if (to === 'activate') setActivation(r)
    bot.reload()
  })
  const test = useAction(async (v: Record<string, string>) => {
    setReply(await api(`/api/bots/${id}/test`, { method: 'POST', body: { message: v.message } }))
    conversations.reload()
  })
  if (bot.error) return html`<${Page} title="Bot"><${ErrorNote} error=${bot.error} /><//>`
  const b = bot.data?.bot
  if (!b) return html`<${Page} title="Bot"><${Loading} /><//>`
  const s = analytics.data?.summary
  return html`<${Page} title=${b.name} actions=${b.status === 'active'
      ? html`<button type="button" class="secondary" onClick=${() => toggle.run('pause')}>Pause</button>`
      : html`<button type="button" onClick=${() => toggle.run('activate')}>Activate</button>`}>
    <p><${Badge} status=${b.status} /> ${b.platform} · ${b.llm_provider} / ${b.llm_model} · credentials ${b.has_platform_config ? 'set' : 'none'}</p>
    ${b.webhook_url ? html`<p>Webhook: <code>${b.webhook_url}</code></p>` : null}
    ${activation ? html`
      <div class="note" role="status"><p>Activated. Webhook <code>${activation.webhook_url}</code>${activation.manual_setup_required ? ' — register this URL on the platform yourself.' : ' — registered with the platform.'}</p>
      ${activation.warnings.length ? html`<ul>${activation.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : null}</div>` : null}
    <${ErrorNote} error=${toggle.error} />
    ${s ? html`<div class="stats">
      <${Stat} label="Messages" value=${s.messages} /><${Stat} label="Conversations" value=${s.conversations} />
      <${Stat} label="Unique users" value=${s.unique_users} /><${Stat} label="Errors" value=${s.errors} />
      <${Stat} label="Cost" value=${cents(s.cost_cents)} /><${Stat} label="Avg latency" value=${`${Math.round(s.avg_latency_ms)} ms`} />
      ${insights.data ? html`<${Stat} label="Resolution rate" value=${`${Math.round(insights.data.resolution_rate * 100)}%`} />` : null}
    </div>` : null}
    <${Panel} title="Try a message">
      <form class="inline" onSubmit=${(e: Event) => test.run(formValues(e))}>
        <${Field} label="Message"><input name="message" required /><//>
        <button type="submit" disabled=${test.busy}>${test.busy ? 'Thinking…' : 'Send'}</button>
      </form>
      <${ErrorNote} error=${test.error} />
      ${reply ? html`<div class="result" aria-live="polite"><p class="answer">${reply.response}</p>
        <p class="muted">${reply.tool_calls.length} tool calls · ${reply.tokens.input + reply.tokens.output} tokens · ${cents(reply.cost_cents)}</p></div>` : null}
    <//>
    <${Panel} title="Conversations">
      <${Table} label="Conversations" rows=${conversations.data?.conversations} empty="No conversations yet."
        columns=${[
          { label: 'User', render: (c: Conversation) => html`<button type="button" class="link" aria-expanded=${openConv === c.id}
            onClick=${() => setOpenConv(openConv === c.id ? null : c.id)}>${c.platform_user_name ?? c.platform_user_id}</button>` },
          { label: 'Messages', render: (c: Conversation) => c.message_count },
          { label: 'Cost', render: (c: Conversation) => cents(c.total_cost_cents) },
          { label: 'Status', render: (c: Conversation) => html`<${Badge} status=${c.status} />` },
          { label: 'Last message', render: (c: Conversation) => when(c.last_message_at) },
        ]} />
      ${openConv ? html`<${ConversationMessages} botId=${id} convId=${openConv} />` : null}
    <//>
    ${insights.data?.unanswered_questions?.length ? html`<${Panel} title="Unanswered questions">
      <ul>${insights.data.unanswered_questions.slice(0, 10).map((q: any) => html`<li>${q.question}</li>`)}</ul><//>` : null}
  <//>`
}
