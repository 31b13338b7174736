/**
 * `isIP` without `node:net`: loading that module (and the streams under it) cost ~7 ms of every start, for
 * one function. Same answers as node's `isIP` (tests/ip-literal.test.ts compares them over a corpus): 4 for a
 * dotted quad without leading zeros, 6 for an IPv6 literal (an optional `%zone` included), else 0.
 */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const V4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`)
const HEX_PART = /^[0-9a-fA-F:.]+$/
const ZONE = /^[0-9a-zA-Z\-.:]+$/

export function isIPv4(s: string): boolean {
  return V4.test(s)
}

export function isIPv6(s: string): boolean {
  if (!s.includes(':')) return false
  const pct = s.indexOf('%')
  const addr = pct < 0 ? s : s.slice(0, pct)
  if (pct >= 0 && !ZONE.test(s.slice(pct + 1))) return false
  if (!HEX_PART.test(addr)) return false
  // The URL parser implements the IPv6 grammar (groups, '::', an IPv4 tail without leading zeros).
  try { new URL(`http://[${addr}]/`); return true } catch { return false }
}

export function isIP(s: string): 0 | 4 | 6 {
  return isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0
}
