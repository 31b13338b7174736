import { PlatformError, platformRequest, snippet, str, type Platform, type PlatformContext } from './types'

/** WhatsApp Cloud API (Graph API): /<phone_number_id> and /<phone_number_id>/messages with a bearer token. */
async function graph(ctx: PlatformContext, path: string, json?: unknown) {
  const res = await platformRequest(ctx, 'WhatsApp', `${ctx.k.config.platformApis.whatsapp}${path}`, {
    method: json === undefined ? 'GET' : 'POST', json, headers: { authorization: `Bearer ${ctx.config.access_token}` },
  })
  if (!res.ok) {
    const e = res.json?.error
    throw PlatformError.refused(`WhatsApp: ${e?.message ?? `HTTP ${res.status} ${snippet(res.text)}`}`, res.status === 401 || e?.code === 190)
  }
  return res.json
}

export const whatsappPlatform: Platform = {
  id: 'whatsapp',
  name: 'WhatsApp',
  description: 'Send WhatsApp text messages through the WhatsApp Cloud API.',
  docsUrl: 'https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages',
  configSchema: {
    type: 'object',
    properties: {
      access_token: str('System user or temporary access token', { minLength: 1, maxLength: 1000 }),
      phone_number_id: str('The sending phone number id (not the phone number)', { pattern: '^[0-9]{5,30}$' }),
    },
    required: ['access_token', 'phone_number_id'],
    additionalProperties: false,
  },
  secretFields: ['access_token'],
  tools: () => [
    {
      op: 'send_text',
      description: 'Send a WhatsApp text message to a phone number (international format, digits only).',
      inputSchema: {
        type: 'object',
        properties: { to: str('Recipient phone number, e.g. 15551234567', { pattern: '^\\+?[0-9]{6,20}$' }), text: str('Message text', { minLength: 1, maxLength: 4096 }), preview_url: { type: 'boolean', description: 'Render a link preview' } },
        required: ['to', 'text'],
        additionalProperties: false,
      },
    },
  ],
  async authenticate(ctx) {
    const r = await graph(ctx, `/${encodeURIComponent(ctx.config.phone_number_id)}`)
    return { account: { phone_number_id: r?.id ?? ctx.config.phone_number_id, display_phone_number: r?.display_phone_number ?? null, verified_name: r?.verified_name ?? null } }
  },
  async call(ctx, op, args) {
    if (op !== 'send_text') throw PlatformError.refused(`WhatsApp has no operation "${op}"`)
    const r = await graph(ctx, `/${encodeURIComponent(ctx.config.phone_number_id)}/messages`, {
      messaging_product: 'whatsapp', recipient_type: 'individual', to: String(args.to).replace(/^\+/, ''), type: 'text', text: { body: args.text, preview_url: !!args.preview_url },
    })
    const id = r?.messages?.[0]?.id ?? null
    return { content: `WhatsApp message ${id ?? ''} sent to ${args.to}`.replace('  ', ' '), data: { id, to: args.to } }
  },
}
