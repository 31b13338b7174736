import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './helpers'

// Issue 11 item 5: "first user becomes admin" must be decided atomically with the insert.
describe('concurrent first registrations', () => {
  const closed = testApp({ env: { AGENTBASE_OPEN_REGISTRATION: 'off' } })
  const open = testApp()
  afterAll(() => { closed.close(); open.close() })

  test('registration closed: of 8 parallel first registrations exactly one succeeds, as admin', async () => {
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      closed.req('POST', '/api/auth/register', { body: { email: `racer${i}@example.com`, password: 'correct-horse-battery' } })))
    const created = rs.filter((r) => r.status === 201)
    expect(created.length).toBe(1)
    expect(created[0].body.user.role).toBe('admin')
    for (const r of rs.filter((r) => r.status !== 201)) {
      expect(r.status).toBe(403)
      expect(r.body.error).toMatch(/Registration is closed/)
    }
    expect(closed.k.db.query<{ n: number }, []>('SELECT count(*) AS n FROM users').get()!.n).toBe(1)
  })

  test('registration open: 8 parallel first registrations make 8 users and exactly one admin', async () => {
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      open.req('POST', '/api/auth/register', { body: { email: `racer${i}@example.com`, password: 'correct-horse-battery' } })))
    expect(rs.map((r) => r.status)).toEqual(Array(8).fill(201))
    expect(rs.filter((r) => r.body.user.role === 'admin').length).toBe(1)
  })

  test('the same email raced 4 times creates one account', async () => {
    const rs = await Promise.all(Array.from({ length: 4 }, () =>
      open.req('POST', '/api/auth/register', { body: { email: 'twin@example.com', password: 'correct-horse-battery' } })))
    expect(rs.filter((r) => r.status === 201).length).toBe(1)
    expect(rs.filter((r) => r.status === 409).length).toBe(3)
  })
})
