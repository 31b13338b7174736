import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, items, one } from '../api'
import { ErrorNote, Field, Loading, Needs, Page, formValues, useAction, useLoad } from '../components'
import { ago } from '../format'
import { go } from '../state'
import { readStream } from '../sse'

interface Conversation { id: string; title: string | null; message_count?: number; updated_at: string }
interface Message {
  id: string; role: string; content: string | null; tool_call_id?: string | null; tools_called?: unknown;
  status?: string; files?: FileInfo[];
}
interface FileInfo { name?: string; filename?: string; size?: number; content_type?: string }
interface ToolEvent { id: string; tool: string; state: 'running' | 'done' | 'failed' }

const base = (id: string) => `/api/chat/conversations/${encodeURIComponent(id)}`

/** A tool message's attachments, loaded on demand, each a download link (Content-Disposition: attachment). */
function Files({ conversation, message }: { conversation: string; message: Message }) {
  const files = useLoad(async () => (message.files ? message.files : items<FileInfo>(await api(`${base(conversation)}/messages/${message.id}/files`), 'files')), [message.id])
  if (!files.data?.length) return null
  return html`<ul class="files">${files.data.map((f) => {
    const name = f.filename ?? f.name ?? 'file'
    return html`<li><a href=${`${base(conversation)}/messages/${message.id}/files/${encodeURIComponent(name)}`} download=${name}>Download ${name}</a>${f.size ? html` <span class="muted">(${f.size} bytes)</span>` : null}</li>`
  })}</ul>`
}

function Conversation({ id }: { id: string }) {
  const conv = useLoad(() => api(`${base(id)}`), [id])
  const history = useLoad(() => api(`${base(id)}/messages?limit=200`), [id])
  const [streaming, setStreaming] = useState('')
  const [tools, setTools] = useState<ToolEvent[]>([])
  const end = useRef<HTMLDivElement>(null)
  const send = useAction(async (v: Record<string, string>, form: HTMLFormElement) => {
    setStreaming(''); setTools([])
    const res = await fetch(`${base(id)}/messages`, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ content: v.content, stream: true }),
    })
    if (!res.ok) {
      const body = await res.json().catch(() => null)
      throw new Error(body?.error ?? `Sending failed (${res.status})`)
    }
    form.reset()
    await readStream(res, (e) => {
      if (e.event === 'text.delta') setStreaming((t) => t + (e.data?.text ?? ''))
      if (e.event === 'tool.started') setTools((list) => [...list, { id: e.data?.call_id ?? e.data?.id ?? String(list.length), tool: e.data?.tool ?? e.data?.name, state: 'running' }])
      if (e.event === 'tool.completed') setTools((list) => list.map((t) => (t.tool === (e.data?.tool ?? e.data?.name) && t.state === 'running' ? { ...t, state: e.data?.success === false ? 'failed' : 'done' } : t)))
      if (e.event === 'run.failed') throw new Error(e.data?.error ?? 'The answer failed')
    })
    setStreaming('')
    history.reload()
    conv.reload()
  })
  useEffect(() => { end.current?.scrollIntoView({ block: 'end' }) }, [history.data, streaming])
  const c = conv.data ? one(conv.data, 'conversation') as Conversation : null
  const messages = items<Message>(history.data, 'messages')
  return html`<div class="chat">
    <h2>${c?.title ?? 'Conversation'}</h2>
    <${ErrorNote} error=${conv.error || history.error} />
    <ol class="messages" aria-live="polite">
      ${messages.map((m) => html`<li class=${`msg ${m.role}`}>
        <span class="role">${m.role}${m.role === 'tool' && m.tool_call_id ? html` <code>${m.tool_call_id}</code>` : null}</span>
        <div class="content">${m.content}</div>
        ${m.role === 'tool' ? html`<${Files} conversation=${id} message=${m} />` : null}
      </li>`)}
      ${tools.length ? html`<li class="msg tool live">${tools.map((t) => html`<span class=${`badge ${t.state === 'running' ? 'info' : t.state === 'done' ? 'ok' : 'bad'}`}>${t.tool}: ${t.state}</span> `)}</li>` : null}
      ${streaming ? html`<li class="msg assistant live"><span class="role">assistant</span><div class="content" data-testid="chat-streaming">${streaming}</div></li>` : null}
    </ol>
    <div ref=${end}></div>
    <form class="composer" onSubmit=${(e: Event) => send.run(formValues(e), e.currentTarget as HTMLFormElement)}>
      <${Field} label="Message"><textarea name="content" rows="2" required></textarea><//>
      <button type="submit" disabled=${send.busy}>${send.busy ? 'Answering…' : 'Send'}</button>
    </form>
    <${ErrorNote} error=${send.error} />
  </div>`
}

function ChatHome({ id }: { id?: string }) {
  const list = useLoad(() => api('/api/chat/conversations?limit=50'))
  const create = useAction(async () => {
    const r = await api('/api/chat/conversations', { method: 'POST', body: {} })
    list.reload()
    go(`/chat/${(one(r, 'conversation') as Conversation).id}`)
  })
  const conversations = items<Conversation>(list.data, 'conversations')
  return html`<div class="chat-layout">
    <aside aria-label="Conversations">
      <button type="button" onClick=${() => create.run()} disabled=${create.busy}>New conversation</button>
      <${ErrorNote} error=${create.error || list.error} />
      ${list.loading && !list.data ? html`<${Loading} />` : null}
      <ul class="conv-list">${conversations.map((c) => html`<li>
        <a href=${`#/chat/${c.id}`} aria-current=${c.id === id ? 'page' : undefined}>${c.title ?? 'Untitled'}</a> <span class="muted">${ago(c.updated_at)}</span></li>`)}</ul>
    </aside>
    ${id ? html`<${Conversation} id=${id} />` : html`<p class="muted">Choose a conversation or start a new one.</p>`}
  </div>`
}

export const Chat = ({ id }: { id?: string }) => html`<${Page} title="Chat">
  <${Needs} path="/api/chat/conversations" what="Chat"><${ChatHome} id=${id} /><//>
<//>`
