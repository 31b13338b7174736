// Our isIP (src/ip-literal.ts, which spares every start the load of node:net) against node's, string by string:
// the outbound guard and the trusted-proxy list decide on its answers.
import { describe, expect, test } from 'bun:test'
import { isIP as nodeIsIP } from 'node:net'
import { isIP } from '../src/ip-literal'

const crafted = [
  '', ' ', '1.2.3.4', '0.0.0.0', '255.255.255.255', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.02.3.4', '1.2.3.04', '00.0.0.0',
  '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-4', '1..2.3', '1.2.3.4/32', '0x7f.0.0.1', '2130706433', '127.1', '١.٢.٣.٤', '1.2.3.4\n',
  '::', '::1', '::1 ', '[::1]', '1::', '1::2', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', ':::', '1:::2',
  '12345::', 'g::1', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%25', 'fe80::1%eth0/64', '::ffff:1.2.3.4', '::ffff:01.2.3.4', '::1.2.3.4',
  '::ffff:256.1.1.1', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::ffff:1.2.3', 'FFFF::', 'ffff::FFFF', '2001:db8::', '2001:0db8:0000:0000:0000:0000:0000:0001',
  '2001:db8::/32', '2001:db8::1]', '2001:db8::1]/x[', 'localhost', 'example.com', '::ffff:127.0.0.1', '::ffff:7f00:1', 'fc00::', 'fe80::',
  '1.2.3.4%eth0', '::1%', '::1%a b', '::1%a.b-c:d', '0:0:0:0:0:0:0:0', '0000:0000:0000:0000:0000:0000:0000:0000', '00000::', '1.2.3.4.', '.1.2.3.4',
]

function randomCandidate(r: () => number): string {
  const pick = (s: string) => s[Math.floor(r() * s.length)]
  const len = 1 + Math.floor(r() * 24)
  const alphabet = r() < 0.5 ? '0123456789.' : '0123456789abcdefABCDEF:.%g'
  let s = ''
  for (let i = 0; i < len; i++) s += pick(alphabet)
  return s
}

describe('isIP without node:net', () => {
  test('crafted literals: the same answer as node', () => {
    for (const s of crafted) expect([s, isIP(s)]).toEqual([s, nodeIsIP(s) as 0 | 4 | 6])
  })
  test('20,000 random strings over IP alphabets and 5,000 shuffled real addresses: the same answer as node', () => {
    let seed = 42
    const r = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    for (let i = 0; i < 20_000; i++) {
      const s = randomCandidate(r)
      expect([s, isIP(s)]).toEqual([s, nodeIsIP(s) as 0 | 4 | 6])
    }
    for (let i = 0; i < 5_000; i++) {
      const groups = Array.from({ length: 8 }, () => Math.floor(r() * 65536).toString(16))
      const cut = Math.floor(r() * 8), drop = Math.floor(r() * (8 - cut))
      const s = r() < 0.5 ? groups.join(':') : groups.slice(0, cut).join(':') + '::' + groups.slice(cut + drop + 1).join(':')
      expect([s, isIP(s)]).toEqual([s, nodeIsIP(s) as 0 | 4 | 6])
      const q = Array.from({ length: 4 }, () => Math.floor(r() * 300)).join('.')
      expect([q, isIP(q)]).toEqual([q, nodeIsIP(q) as 0 | 4 | 6])
    }
  })
})
