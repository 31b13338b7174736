import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { clientIp } from '../src/http/client-ip'
import { parseTrustProxy } from '../src/config'

// Issue 11 item 6: behind nginx (`X-Forwarded-For $proxy_add_x_forwarded_for`) the header is
// "<whatever the client sent>, <address nginx saw>": only the rightmost hop is the proxy's word.
const PW = 'correct-horse-battery'

describe('X-Forwarded-For as nginx forwards it (AGENTBASE_TRUST_PROXY=on)', () => {
  const t = testApp({ env: { AGENTBASE_TRUST_PROXY: 'on' } })
  afterAll(() => t.close())
  const login = (email: string, xff: string) =>
    t.req('POST', '/api/auth/login', { body: { email, password: 'wrong-password' }, headers: { 'x-forwarded-for': xff } })

  test('a client rotating a forged first hop is still throttled by its real address', async () => {
    for (let i = 0; i < 20; i++) expect((await login(`spray${i}@example.com`, `10.66.0.${i}, 203.0.113.50`)).status).toBe(401)
    const r = await login('another@example.com', '10.66.1.1, 203.0.113.50')
    expect(r.status).toBe(429)
    expect(r.body.code).toBe('login_throttled')
    // A different real client (the rightmost hop nginx wrote) is unaffected, whatever it forged on the left.
    expect((await login('fresh@example.com', '203.0.113.50, 198.51.100.9')).status).toBe(401)
  })
})

describe('clientIp', () => {
  const server = (address: string) => ({ requestIP: () => ({ address }) })
  const req = (xff?: string) => new Request('http://x/', { headers: xff ? { 'x-forwarded-for': xff } : {} })
  const cases: Array<{ trust: string; socket: string; xff?: string; ip: string }> = [
    { trust: 'off', socket: '127.0.0.1', xff: '6.6.6.6', ip: '127.0.0.1' },
    { trust: 'on', socket: '127.0.0.1', xff: '6.6.6.6, 5.5.5.5', ip: '5.5.5.5' },
    { trust: 'on', socket: '127.0.0.1', xff: '5.5.5.5', ip: '5.5.5.5' },
    { trust: 'on', socket: '127.0.0.1', ip: '127.0.0.1' },
    { trust: '2', socket: '127.0.0.1', xff: '6.6.6.6, 5.5.5.5, 10.0.0.2', ip: '5.5.5.5' },
    { trust: '2', socket: '127.0.0.1', xff: '5.5.5.5', ip: '5.5.5.5' },
    { trust: '127.0.0.1,10.0.0.0/8', socket: '127.0.0.1', xff: '6.6.6.6, 5.5.5.5, 10.0.0.2', ip: '5.5.5.5' },
    { trust: '127.0.0.1,10.0.0.0/8', socket: '::ffff:127.0.0.1', xff: '6.6.6.6, 5.5.5.5', ip: '5.5.5.5' },
    // The socket peer is not a listed proxy: its headers mean nothing.
    { trust: '127.0.0.1,10.0.0.0/8', socket: '192.0.2.1', xff: '5.5.5.5', ip: '192.0.2.1' },
    { trust: '10.0.0.0/8', socket: '10.1.1.1', xff: '10.0.0.3, 10.0.0.2', ip: '10.0.0.3' },
  ]
  for (const c of cases) {
    test(`TRUST_PROXY=${c.trust}, socket ${c.socket}, XFF "${c.xff ?? ''}" -> ${c.ip}`, () => {
      expect(clientIp(req(c.xff), server(c.socket), parseTrustProxy(c.trust))).toBe(c.ip)
    })
  }
})
