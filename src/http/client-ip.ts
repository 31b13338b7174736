/** Client IP: the socket address, or X-Forwarded-For's first hop only when the proxy is trusted. */
export function clientIp(request: Request, server: { requestIP(r: Request): { address: string } | null } | null | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = request.headers.get('x-forwarded-for')
    if (fwd) return fwd.split(',')[0].trim()
    const real = request.headers.get('x-real-ip')
    if (real) return real.trim()
  }
  return server?.requestIP(request)?.address ?? '127.0.0.1'
}

/** The external base URL: AGENTBASE_PUBLIC_URL, else derived from the request (honouring X-Forwarded-* when trusted). */
export function publicBase(request: Request, publicUrl: string | null, trustProxy: boolean): string {
  if (publicUrl) return publicUrl
  const url = new URL(request.url)
  if (trustProxy) {
    const proto = request.headers.get('x-forwarded-proto')?.split(',')[0].trim()
    const host = request.headers.get('x-forwarded-host')?.split(',')[0].trim()
    return `${proto ?? url.protocol.replace(':', '')}://${host ?? url.host}`
  }
  return `${url.protocol}//${url.host}`
}
