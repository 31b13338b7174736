import { isIP } from '../ip-literal'

/** IPv4/IPv6 parsing and CIDR matching for the outbound guard. */
export function ipToBigInt(ip: string): { v: 4 | 6; n: bigint } | null {
  const kind = isIP(ip)
  if (kind === 4) return { v: 4, n: ip.split('.').reduce((a, p) => (a << 8n) + BigInt(Number(p)), 0n) }
  if (kind !== 6) return null
  let s = ip.toLowerCase().split('%')[0]
  const v4 = s.match(/(\d+\.\d+\.\d+\.\d+)$/)
  if (v4) {
    const n = ipToBigInt(v4[1])!.n
    s = s.slice(0, -v4[1].length) + ((n >> 16n) & 0xffffn).toString(16) + ':' + (n & 0xffffn).toString(16)
  }
  const [head, tail] = s.split('::')
  const h = head ? head.split(':') : []
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : []
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  return { v: 6, n: groups.reduce((a, g) => (a << 16n) + BigInt(parseInt(g || '0', 16)), 0n) }
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsStr] = cidr.split('/')
  const a = ipToBigInt(ip)
  const b = ipToBigInt(base)
  if (!a || !b) return false
  // Compare IPv4-mapped IPv6 addresses as IPv4.
  const norm = (x: { v: 4 | 6; n: bigint }) => (x.v === 6 && x.n >> 32n === 0xffffn ? { v: 4 as const, n: x.n & 0xffffffffn } : x)
  const na = norm(a), nb = norm(b)
  if (na.v !== nb.v) return false
  const width = na.v === 4 ? 32 : 128
  const bits = bitsStr === undefined ? width : Number(bitsStr)
  const shift = BigInt(width - bits)
  return na.n >> shift === nb.n >> shift
}

/** Ranges we never reach on a user's behalf unless allowlisted: private, loopback, link-local, metadata, etc. */
export const BLOCKED_RANGES = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32',
  '::/96' /* unspecified, loopback, IPv4-compatible */, '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8', '64:ff9b::/96', '100::/64',
]

export const isBlockedIp = (ip: string) => BLOCKED_RANGES.some((r) => inCidr(ip, r))
