import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import * as tokens from './service'
import { CreateToken, Token } from './model'

export const tokensPlugin = (k: Kernel) =>
  new Elysia({ name: 'tokens', seed: k.seed, prefix: '/api/tokens', detail: { tags: ['API tokens'] } })
    .use(authGuard(k))
    .post('', ({ principal, body, set }) => {
      const { token, key } = tokens.create(k, principal, body)
      set.status = 201
      return { token, key }
    }, {
      auth: { session: true },
      body: CreateToken,
      response: { 201: t.Object({ token: Token, key: t.String({ description: 'ab_pat_... shown only in this response' }) }) },
      detail: { summary: 'Create an API token (shown once)' },
    })
    .get('', ({ principal }) => ({ tokens: tokens.list(k, principal) }), {
      auth: { session: true },
      response: t.Object({ tokens: t.Array(Token) }),
      detail: { summary: 'List your API tokens' },
    })
    .delete('/:id', ({ principal, params }) => {
      tokens.revoke(k, principal, params.id)
      return { deleted: true }
    }, { auth: { session: true }, response: t.Object({ deleted: t.Boolean() }), detail: { summary: 'Revoke a token (effective at once)' } })
