import type { Kernel } from '../../src/kernel'

/** Is OLLAMA_HOST reachable, which version, which models; and on failure what to do about it, in words. */

const TIMEOUT_MS = 3000

/** The Ollama server URL (the config keeps the OpenAI-compatible `/v1` base). */
export const ollamaUrl = (k: Kernel) => k.config.llmBaseUrls.ollama.replace(/\/v1$/, '')
const isDefault = (url: string) => url === 'http://127.0.0.1:11434'

interface Probe { ok: boolean; status: number | null; json: any; error: string | null; code: string | null; ms: number }

async function get(url: string): Promise<Probe> {
  const t0 = performance.now()
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' })
    const text = await res.text()
    let json: any = null
    try { json = JSON.parse(text) } catch { /* not JSON */ }
    return { ok: res.ok, status: res.status, json, error: res.ok ? null : `HTTP ${res.status}`, code: res.ok ? null : 'http_error', ms: Math.round(performance.now() - t0) }
  } catch (err) {
    const e = err as Error & { code?: string }
    const timeout = e.name === 'TimeoutError' || e.name === 'AbortError'
    const code = timeout ? 'timeout' : /refused/i.test(`${e.code} ${e.message}`) ? 'connection_refused' : /ENOTFOUND|getaddrinfo|resolve/i.test(`${e.code} ${e.message}`) ? 'dns_failed' : 'unreachable'
    return { ok: false, status: null, json: null, error: timeout ? `no answer within ${TIMEOUT_MS} ms` : e.message, code, ms: Math.round(performance.now() - t0) }
  }
}

function fixFor(url: string, code: string | null): string {
  const unset = isDefault(url) ? 'OLLAMA_HOST is not set, so the default http://127.0.0.1:11434 was tried. ' : ''
  switch (code) {
    case 'connection_refused':
      return `${unset}Nothing is listening at ${url}. Start Ollama (\`ollama serve\`) on that machine. Ollama listens on 127.0.0.1 only by default: `
        + 'when it runs on another machine or in another container, set OLLAMA_HOST=0.0.0.0 on the Ollama side and OLLAMA_HOST=http://<its address>:11434 here.'
    case 'dns_failed': return `${unset}The host name in OLLAMA_HOST (${url}) does not resolve: use an IP address or a name this server can resolve.`
    case 'timeout': return `${unset}${url} did not answer within ${TIMEOUT_MS} ms: check firewalls between this server and Ollama, and that the port (11434) is open.`
    case 'http_error': return `${url} answered, but not like Ollama: check that OLLAMA_HOST points at the Ollama server (port 11434 by default), not at a proxy or another service.`
    default: return `${unset}${url} is not reachable: check the address in OLLAMA_HOST and that Ollama is running.`
  }
}

const models = (json: any) => (Array.isArray(json?.models) ? json.models : []).map((m: any) => ({
  name: String(m?.name ?? m?.model ?? ''), size: typeof m?.size === 'number' ? m.size : null, modified_at: m?.modified_at ?? null,
  family: m?.details?.family ?? null, parameter_size: m?.details?.parameter_size ?? null,
}))

export async function status(k: Kernel) {
  const url = ollamaUrl(k)
  const version = await get(`${url}/api/version`)
  if (!version.ok) return { available: false, url, configured: !isDefault(url), version: null, models: [], error: version.error, fix: fixFor(url, version.code) }
  const tags = await get(`${url}/api/tags`)
  return { available: true, url, configured: !isDefault(url), version: version.json?.version ?? null, models: tags.ok ? models(tags.json) : [], error: tags.ok ? null : `listing models failed: ${tags.error}`, fix: null }
}

/** Every check in order, with what was tried and what it found. */
export async function diagnostic(k: Kernel) {
  const url = ollamaUrl(k)
  const checks: Array<{ name: string; ok: boolean; detail: string; latency_ms?: number }> = []
  checks.push({ name: 'OLLAMA_HOST', ok: true, detail: isDefault(url) ? `not set; using the default ${url}` : `set to ${url}` })
  let parsed: URL | null = null
  try { parsed = new URL(url) } catch { /* reported below */ }
  checks.push({ name: 'url', ok: !!parsed && /^https?:$/.test(parsed.protocol), detail: parsed ? `${parsed.protocol}//${parsed.host}` : `"${url}" is not a URL` })
  const version = await get(`${url}/api/version`)
  checks.push({ name: 'reachable', ok: version.ok, detail: version.ok ? `answered in ${version.ms} ms` : `${version.error} (${version.code})`, latency_ms: version.ms })
  let modelList: ReturnType<typeof models> = []
  if (version.ok) {
    checks.push({ name: 'version', ok: !!version.json?.version, detail: version.json?.version ? `Ollama ${version.json.version}` : 'no version in the answer: is this Ollama?' })
    const tags = await get(`${url}/api/tags`)
    modelList = tags.ok ? models(tags.json) : []
    checks.push({ name: 'models', ok: modelList.length > 0, detail: tags.ok ? (modelList.length ? `${modelList.length} model(s): ${modelList.map((m: { name: string }) => m.name).join(', ')}` : 'no models pulled: run `ollama pull llama3.2`') : `listing models failed: ${tags.error}` })
  }
  const ok = checks.every((c) => c.ok)
  return {
    ok, url, checks, version: version.ok ? version.json?.version ?? null : null, models: modelList,
    error: version.ok ? null : version.error, fix: ok ? null : version.ok ? 'Pull a model on the Ollama machine: `ollama pull llama3.2`.' : fixFor(url, version.code),
  }
}
