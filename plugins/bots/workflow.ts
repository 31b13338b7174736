/**
 * Structural validation of a bot's workflow_json in the older node/edge shape (stored as given). A workflow_json
 * in the workflow step format ({ steps }) is validated and run by plugins/workflows/bots.ts when enabled.
 */
import { badRequest } from '../../src/http/errors'

export const MAX_WORKFLOW_NODES = 200
export const MAX_WORKFLOW_EDGES = 1000

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)
const ID = /^[A-Za-z0-9_.:-]{1,100}$/

/** Throws 400 naming the first structural problem: { nodes: [{ id, type, data? }], edges: [{ source, target }] }. */
export function validateWorkflow(w: unknown): void {
  const fail = (field: string, problem: string) => { throw badRequest(`workflow_json.${field} ${problem}`, { [`workflow_json.${field}`]: problem }) }
  if (!isObj(w)) throw badRequest('workflow_json must be a JSON object with "nodes" and "edges"', { workflow_json: 'must be a JSON object' })
  if (!Array.isArray(w.nodes)) fail('nodes', 'must be an array')
  const nodes = w.nodes as unknown[]
  if (nodes.length === 0) fail('nodes', 'must have at least one node')
  if (nodes.length > MAX_WORKFLOW_NODES) fail('nodes', `must have at most ${MAX_WORKFLOW_NODES} nodes`)
  const ids = new Set<string>()
  nodes.forEach((n, i) => {
    if (!isObj(n)) return fail(`nodes[${i}]`, 'must be an object')
    if (typeof n.id !== 'string' || !ID.test(n.id)) fail(`nodes[${i}].id`, 'must be 1-100 characters of A-Za-z0-9_.:-')
    if (ids.has(n.id as string)) fail(`nodes[${i}].id`, `duplicates "${n.id}"`)
    ids.add(n.id as string)
    if (typeof n.type !== 'string' || !n.type.trim() || n.type.length > 100) fail(`nodes[${i}].type`, 'must be a non-empty string')
    if (n.data !== undefined && n.data !== null && !isObj(n.data)) fail(`nodes[${i}].data`, 'must be an object')
  })
  const edges = w.edges === undefined ? [] : w.edges
  if (!Array.isArray(edges)) fail('edges', 'must be an array')
  if ((edges as unknown[]).length > MAX_WORKFLOW_EDGES) fail('edges', `must have at most ${MAX_WORKFLOW_EDGES} edges`)
  ;(edges as unknown[]).forEach((e, i) => {
    if (!isObj(e)) return fail(`edges[${i}]`, 'must be an object')
    for (const end of ['source', 'target'] as const) {
      if (typeof e[end] !== 'string') fail(`edges[${i}].${end}`, 'must be a node id')
      else if (!ids.has(e[end] as string)) fail(`edges[${i}].${end}`, `references unknown node "${e[end]}"`)
    }
    if (e.source === e.target) fail(`edges[${i}]`, 'must connect two different nodes')
  })
  if (JSON.stringify(w).length > 512 * 1024) throw badRequest('workflow_json must be at most 512 KB', { workflow_json: 'must be at most 512 KB' })
}
