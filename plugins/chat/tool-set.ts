import { createHash } from 'node:crypto'
import type { ToolContext, ToolDefinition, ToolResult, ToolSet } from '../../src/agent/types'
import type { CatalogEntry, WorkspaceToolSet } from '../../src/tools/workspace-tools'
import { newId } from '../../src/db/ids'
import { TOOL_FILE_MAX_BYTES } from '../../src/tools/binary'

/**
 * The tools one turn offers: the selected subset of the workspace's catalog. Binary results (MCP images, audio,
 * blob resources, HTTP bodies that are not text: src/tools/binary.ts) are kept aside as files; the model gets a short reference instead of the bytes, and the
 * orchestrator stores each file as an attachment of the tool message that mentions it.
 */

export const MAX_FILE_BYTES = TOOL_FILE_MAX_BYTES
export interface PendingFile { id: string; filename: string; contentType: string; data: Uint8Array; sha256: string }
export const ATTACHMENT_REF = /attachment (att_[A-Za-z0-9_-]{20})/g

const EXT: Record<string, string> = {
  'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp', 'image/svg+xml': 'svg', 'audio/wav': 'wav', 'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg', 'application/pdf': 'pdf', 'application/zip': 'zip', 'application/gzip': 'gz', 'application/octet-stream': 'bin',
  'text/plain': 'txt', 'application/json': 'json', 'text/csv': 'csv',
}


const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 100) || 'file'

export class ChatToolSet implements ToolSet {
  readonly files = new Map<string, PendingFile>()

  constructor(private inner: WorkspaceToolSet, private offered: CatalogEntry[]) {}

  async list(): Promise<ToolDefinition[]> {
    return this.offered.map((e) => ({ name: e.name, description: e.description, inputSchema: e.inputSchema, source: e.source }))
  }

  async call(name: string, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
    const r = await this.inner.call(name, args, ctx)
    const parts = r.files ?? []
    if (!parts.length) return r
    const notes: string[] = []
    parts.forEach((p, i) => {
      const bytes = Buffer.from(p.data, 'base64')
      const type = (p.mimeType || 'application/octet-stream').toLowerCase()
      const base = p.name || (p.uri ? p.uri.split(/[/?#]/).filter(Boolean).pop() : '') || `${name}-${i + 1}`
      const filename = safeName(/\.[a-z0-9]{1,5}$/i.test(base) ? base : `${base}.${EXT[type] ?? 'bin'}`)
      if (bytes.length > MAX_FILE_BYTES) {
        notes.push(`[file ${filename} (${type}, ${bytes.length} bytes) was larger than ${MAX_FILE_BYTES} bytes and was not kept]`)
        return
      }
      const file: PendingFile = { id: newId('att'), filename, contentType: type, data: bytes, sha256: createHash('sha256').update(bytes).digest('hex') }
      this.files.set(file.id, file)
      notes.push(`[file ${filename} (${type}, ${bytes.length} bytes, sha256 ${file.sha256.slice(0, 16)}) saved as attachment ${file.id}; the user can download it]`)
    })
    const { files: _bytes, ...rest } = r
    return { ...rest, content: [r.content, ...notes].filter(Boolean).join('\n') }
  }
}
