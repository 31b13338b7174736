import type { ProxyTrust } from '../config'
import { inCidr } from '../tools/ip'

type ServerLike = { requestIP(r: Request): { address: string } | null } | null | undefined
/** `true` (older callers) means one proxy. */
type Trust = ProxyTrust | boolean

const normalise = (t: Trust): ProxyTrust | false => (t === true ? { hops: 1 } : t === false ? false : t)
const stripMapped = (ip: string) => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')

/**
 * Client IP: the socket address, or, behind trusted proxies, the address the outermost trusted proxy saw.
 * Each proxy appends the address it received from (nginx's `$proxy_add_x_forwarded_for`), so the hops a
 * client wrote itself are on the LEFT: we read from the right and never believe more hops than proxies.
 *  - `{ hops: n }`: the n-th entry from the right (the leftmost when there are fewer);
 *  - `{ cidrs }`: only when the socket peer is a listed proxy; skip listed proxies from the right, take
 *    the first address that is not one.
 */
export function clientIp(request: Request, server: ServerLike, trustProxy: Trust): string {
  const socket = stripMapped(server?.requestIP(request)?.address ?? '127.0.0.1')
  const trust = normalise(trustProxy)
  if (!trust) return socket
  const header = request.headers.get('x-forwarded-for')
  const hops = header ? header.split(',').map((h) => stripMapped(h.trim())).filter(Boolean) : []
  if (!hops.length) return socket
  if (trust.hops !== undefined) return hops[Math.max(0, hops.length - trust.hops)]
  const isProxy = (ip: string) => trust.cidrs.some((c) => inCidr(ip, c))
  if (!isProxy(socket)) return socket
  for (let i = hops.length - 1; i >= 0; i--) if (!isProxy(hops[i])) return hops[i]
  return hops[0]
}

/** The external base URL: AGENTBASE_PUBLIC_URL, else derived from the request (honouring X-Forwarded-* when trusted). */
export function publicBase(request: Request, publicUrl: string | null, trustProxy: Trust): string {
  if (publicUrl) return publicUrl
  const url = new URL(request.url)
  if (trustProxy) {
    const proto = request.headers.get('x-forwarded-proto')?.split(',')[0].trim()
    const host = request.headers.get('x-forwarded-host')?.split(',')[0].trim()
    return `${proto ?? url.protocol.replace(':', '')}://${host ?? url.host}`
  }
  return `${url.protocol}//${url.host}`
}
