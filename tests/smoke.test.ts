import { afterAll, expect, test } from 'bun:test'
import { testApp } from './helpers'

const t = testApp()
afterAll(() => t.close())

test('register, login, token, me', async () => {
  const a = await t.user()
  const me = await t.req('GET', '/api/auth/me', { token: a.token })
  expect(me.status).toBe(200)
  expect(me.body.user.email).toBe(a.email)
  expect(me.body.user.role).toBe('admin')
})
