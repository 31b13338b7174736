import { PlatformError, platformRequest, snippet, str, type Platform, type PlatformContext } from './types'

const NAME = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' }
const repoProps = { owner: { ...NAME, description: 'Repository owner (user or organization)' }, repo: { ...NAME, description: 'Repository name' } }

/** GitHub REST API with a personal access token or fine-grained token. */
async function github(ctx: PlatformContext, path: string, init: { method?: string; json?: unknown } = {}) {
  const res = await platformRequest(ctx, 'GitHub', `${ctx.k.config.platformApis.github}${path}`, {
    method: init.method ?? 'GET', json: init.json,
    headers: { authorization: `Bearer ${ctx.config.token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
  })
  if (!res.ok) throw PlatformError.refused(`GitHub: ${res.json?.message ?? `HTTP ${res.status} ${snippet(res.text)}`} (HTTP ${res.status})`, res.status === 401)
  return res.json
}

const repoPath = (a: Record<string, any>) => `/repos/${encodeURIComponent(a.owner)}/${encodeURIComponent(a.repo)}`

export const githubPlatform: Platform = {
  id: 'github',
  name: 'GitHub',
  description: 'List and create issues and read files in GitHub repositories.',
  docsUrl: 'https://docs.github.com/en/rest/issues/issues',
  configSchema: {
    type: 'object',
    properties: { token: str('Personal access token (classic or fine-grained) with repo/issues access', { minLength: 1, maxLength: 500 }) },
    required: ['token'],
    additionalProperties: false,
  },
  secretFields: ['token'],
  tools: () => [
    {
      op: 'list_issues',
      description: 'List issues of a GitHub repository (pull requests excluded).',
      inputSchema: {
        type: 'object',
        properties: {
          ...repoProps,
          state: { type: 'string', enum: ['open', 'closed', 'all'], description: 'Default open' },
          labels: str('Comma-separated label names'),
          per_page: { type: 'integer', minimum: 1, maximum: 100, description: 'Default 30' },
          page: { type: 'integer', minimum: 1 },
        },
        required: ['owner', 'repo'],
        additionalProperties: false,
      },
    },
    {
      op: 'create_issue',
      description: 'Open a new issue in a GitHub repository.',
      inputSchema: {
        type: 'object',
        properties: {
          ...repoProps,
          title: str('Issue title', { minLength: 1, maxLength: 256 }),
          body: str('Issue body (Markdown)', { maxLength: 65536 }),
          labels: { type: 'array', items: { type: 'string' }, maxItems: 20 },
          assignees: { type: 'array', items: { type: 'string' }, maxItems: 10 },
        },
        required: ['owner', 'repo', 'title'],
        additionalProperties: false,
      },
    },
    {
      op: 'get_file',
      description: 'Read a file from a GitHub repository (text), or list a directory.',
      inputSchema: {
        type: 'object',
        properties: { ...repoProps, path: str('Path in the repository, e.g. src/index.ts', { minLength: 1, maxLength: 1000 }), ref: str('Branch, tag or commit (default branch if omitted)') },
        required: ['owner', 'repo', 'path'],
        additionalProperties: false,
      },
    },
  ],
  async authenticate(ctx) {
    const u = await github(ctx, '/user')
    return { account: { login: u?.login ?? null, id: u?.id ?? null, name: u?.name ?? null } }
  },
  async call(ctx, op, args) {
    if (op === 'list_issues') {
      const q = new URLSearchParams({ state: args.state ?? 'open', per_page: String(args.per_page ?? 30), ...(args.labels ? { labels: args.labels } : {}), ...(args.page ? { page: String(args.page) } : {}) })
      const list = (await github(ctx, `${repoPath(args)}/issues?${q}`)) as any[]
      const issues = (Array.isArray(list) ? list : []).filter((i) => !i.pull_request).map((i) => ({
        number: i.number, title: i.title, state: i.state, url: i.html_url, author: i.user?.login ?? null, labels: (i.labels ?? []).map((l: any) => (typeof l === 'string' ? l : l.name)),
      }))
      return { content: issues.length ? issues.map((i) => `#${i.number} [${i.state}] ${i.title} (${i.url})`).join('\n') : 'No issues', data: { issues } }
    }
    if (op === 'create_issue') {
      const i = await github(ctx, `${repoPath(args)}/issues`, { method: 'POST', json: { title: args.title, ...(args.body ? { body: args.body } : {}), ...(args.labels ? { labels: args.labels } : {}), ...(args.assignees ? { assignees: args.assignees } : {}) } })
      return { content: `Created issue #${i?.number}: ${i?.html_url}`, data: { number: i?.number ?? null, url: i?.html_url ?? null } }
    }
    if (op === 'get_file') {
      const path = String(args.path).replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')
      const f = await github(ctx, `${repoPath(args)}/contents/${path}${args.ref ? `?ref=${encodeURIComponent(args.ref)}` : ''}`)
      if (Array.isArray(f)) {
        const entries = f.map((e: any) => ({ name: e.name, path: e.path, type: e.type, size: e.size }))
        return { content: entries.map((e) => `${e.type === 'dir' ? 'dir ' : 'file'} ${e.path}`).join('\n'), data: { type: 'dir', entries } }
      }
      if (f?.type !== 'file') return { content: `${args.path} is a ${f?.type ?? 'unknown'}, not a file`, isError: true }
      const text = f.encoding === 'base64' ? Buffer.from(String(f.content ?? ''), 'base64').toString('utf8') : String(f.content ?? '')
      return { content: text, data: { type: 'file', path: f.path, size: f.size, sha: f.sha, content: text } }
    }
    throw PlatformError.refused(`GitHub has no operation "${op}"`)
  },
}
