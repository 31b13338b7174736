import { createHash } from 'node:crypto'
import type { ToolResult } from '../agent/types'

/**
 * Binary HTTP bodies as tool files (issue 12 item 5): a response whose type is not text comes back as a
 * `ToolResult.files` entry with a short reference for the model, never the bytes in the transcript, the audit
 * log or run events. Surfaces that store files (chat) keep it as an attachment; the others see the reference.
 */

/** The largest binary result kept (chat stores attachments up to this size; larger bodies are refused unread). */
export const TOOL_FILE_MAX_BYTES = 10 * 1024 * 1024

/** The bare, lowercased media type: `Image/PNG; charset=x` -> `image/png`. */
export const mediaType = (contentType: string | null | undefined) => (contentType ?? '').split(';')[0].trim().toLowerCase()

const TEXT_APPLICATION = new Set([
  'application/json', 'application/xml', 'application/javascript', 'application/ecmascript', 'application/x-www-form-urlencoded',
  'application/yaml', 'application/x-yaml', 'application/toml', 'application/graphql', 'application/sql', 'application/x-ndjson',
  'application/ndjson', 'application/csv', 'application/x-sh', 'application/rtf',
])

/** Text is text/*, JSON, XML and their `+json`/`+xml` variants (and a few other textual types); no type at all counts as text. */
export function isTextType(contentType: string | null | undefined): boolean {
  const type = mediaType(contentType)
  if (!type) return true
  return type.startsWith('text/') || TEXT_APPLICATION.has(type) || type.endsWith('+json') || type.endsWith('+xml') || type.endsWith('+yaml')
}

/** The file name a response suggests: Content-Disposition (`filename*` first), else the URL path's last segment. */
export function responseFilename(contentDisposition: string | null, url: string): string | undefined {
  const cd = contentDisposition ?? ''
  const star = /filename\*\s*=\s*(?:[\w-]+)?'[^']*'([^;]+)/i.exec(cd)
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(cd)
  let name = ''
  if (star) name = decode(star[1].trim())
  else if (plain) name = (plain[1] ?? plain[2] ?? '').replace(/\\(.)/g, '$1')
  if (!name) {
    try { name = decode(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '') } catch { name = '' }
  }
  // Only the last path component: a name never points anywhere.
  name = name.split(/[\\/]/).filter(Boolean).pop() ?? ''
  return name.trim() || undefined
}

function decode(s: string) {
  try { return decodeURIComponent(s) } catch { return s }
}

/** What safeFetch read of a binary body (src/tools/outbound.ts `binaryMaxBytes`). */
export interface BinaryBody {
  /** The bytes, or null when the body was larger than the cap (refused, not kept). */
  bytes: Uint8Array | null
  /** Bytes read, or the declared Content-Length when the body was refused unread. */
  size: number
}

/**
 * The tool result for a binary HTTP body: a reference line for the model and the bytes as one file, or an
 * error that says the body was over the cap. `data` has the metadata only (it is what the audit log records).
 */
export function binaryResult(res: { status: number; headers: Headers; url: string }, body: BinaryBody, maxBytes = TOOL_FILE_MAX_BYTES): ToolResult {
  const type = mediaType(res.headers.get('content-type')) || 'application/octet-stream'
  const head = `HTTP ${res.status} (${type})`
  const base = { status: res.status, content_type: type, body: null, url: res.url }
  if (!body.bytes) {
    return {
      content: `${head}: the binary body${body.size > maxBytes ? ` (${body.size} bytes)` : ''} is larger than the ${maxBytes}-byte limit for files and was not kept`,
      isError: true,
      data: { ...base, truncated: true, file: null },
    }
  }
  const name = responseFilename(res.headers.get('content-disposition'), res.url)
  const sha256 = createHash('sha256').update(body.bytes).digest('hex')
  const file = { name: name ?? null, content_type: type, size: body.bytes.length, sha256 }
  return {
    content: `${head}: binary body, ${body.bytes.length} bytes${name ? `, file "${name}"` : ''} (sha256 ${sha256.slice(0, 16)}); the bytes are not shown here`,
    data: { ...base, truncated: false, file },
    files: [{ mimeType: type, data: Buffer.from(body.bytes).toString('base64'), ...(name ? { name } : {}), uri: res.url }],
  }
}
