// Issue 11 item 17: a bad setting stops start-up, naming the variable and what it accepts.
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../src/config'
import { baseEnv, cli, tmp } from './cli-kit'

setDefaultTimeout(60_000)

const bad: Array<[string, string, RegExp]> = [
  ['AGENTBASE_TRUST_PROXY', 'maybe', /AGENTBASE_TRUST_PROXY accepts off, on \(one proxy\), the number of proxies.*got "maybe"/],
  ['AGENTBASE_TRUST_PROXY', '10.0.0.0/33', /AGENTBASE_TRUST_PROXY accepts/],
  ['AGENTBASE_TRUST_PROXY', '999', /AGENTBASE_TRUST_PROXY accepts/],
  ['AGENTBASE_PUBLIC_URL', 'agents.example.com', /AGENTBASE_PUBLIC_URL must be an absolute http\(s\) URL/],
  ['AGENTBASE_PUBLIC_URL', 'ftp://agents.example.com', /AGENTBASE_PUBLIC_URL must be an absolute http\(s\) URL/],
  ['AGENTBASE_PUBLIC_URL', 'https://agents.example.com/?x=1', /AGENTBASE_PUBLIC_URL must be an absolute http\(s\) URL without credentials, query or fragment/],
  ['AGENTBASE_RUN_CONCURRENCY', '0', /AGENTBASE_RUN_CONCURRENCY must be an integer of at least 1, got "0"/],
  ['AGENTBASE_RUN_QUEUE_MAX', '0', /AGENTBASE_RUN_QUEUE_MAX must be an integer of at least 1/],
  ['AGENTBASE_CHANNEL_CONCURRENCY', '-3', /AGENTBASE_CHANNEL_CONCURRENCY must be a non-negative integer/],
  ['AGENTBASE_SECRET_KEY', 'hunter2', /AGENTBASE_SECRET_KEY must be at least 32 characters.*got 7/],
  ['AGENTBASE_OPEN_REGISTRATION', 'sure', /AGENTBASE_OPEN_REGISTRATION must be "on" or "off", got "sure"/],
  ['AGENTBASE_ALLOW_STDIO_MCP', 'enable', /AGENTBASE_ALLOW_STDIO_MCP must be "on" or "off"/],
  ['PORT', '70000', /PORT must be between 0 and 65535/],
  ['PORT', ' ', /PORT must be a non-negative integer/],
  ['OPENAI_BASE_URL', 'api.openai.com/v1', /OPENAI_BASE_URL must be an absolute http\(s\) URL/],
  ['OLLAMA_HOST', 'localhost:11434', /OLLAMA_HOST must be an absolute http\(s\) URL/],
  ['TELEGRAM_API_URL', 'not a url', /TELEGRAM_API_URL must be an absolute http\(s\) URL/],
]

describe('loadConfig refuses malformed values', () => {
  for (const [name, value, error] of bad) {
    test(`${name}=${JSON.stringify(value)}`, () => {
      expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
      expect(() => loadConfig({ [name]: value })).toThrow(error)
    })
  }
  test('accepted forms', () => {
    expect(loadConfig({ AGENTBASE_TRUST_PROXY: 'off' }).trustProxy).toBe(false)
    expect(loadConfig({ AGENTBASE_TRUST_PROXY: 'on' }).trustProxy).toEqual({ hops: 1 })
    expect(loadConfig({ AGENTBASE_TRUST_PROXY: '2' }).trustProxy).toEqual({ hops: 2 })
    expect(loadConfig({ AGENTBASE_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).trustProxy).toEqual({ cidrs: ['127.0.0.1', '10.0.0.0/8', '::1'] })
    expect(loadConfig({ AGENTBASE_OPEN_REGISTRATION: 'no' }).openRegistration).toBe(false)
    expect(loadConfig({ AGENTBASE_PUBLIC_URL: 'https://agents.example.com/base/' }).publicUrl).toBe('https://agents.example.com/base')
    expect(loadConfig({ AGENTBASE_SECRET_KEY: 'k'.repeat(32) }).secretKey).toBe('k'.repeat(32))
  })
})

describe('serve stops at once on a bad value (exit 1, nothing created)', () => {
  const cases: Array<[string, string, string]> = [
    ['AGENTBASE_TRUST_PROXY', 'maybe', 'AGENTBASE_TRUST_PROXY accepts off, on'],
    ['AGENTBASE_PUBLIC_URL', 'agents.example.com', 'AGENTBASE_PUBLIC_URL must be an absolute http(s) URL'],
    ['AGENTBASE_RUN_CONCURRENCY', '0', 'AGENTBASE_RUN_CONCURRENCY must be an integer of at least 1'],
    ['AGENTBASE_SECRET_KEY', 'short', 'AGENTBASE_SECRET_KEY must be at least 32 characters'],
  ]
  for (const [name, value, message] of cases) {
    test(`${name}=${value}`, async () => {
      const dir = join(tmp(), 'data')
      const r = await cli(['serve'], { ...baseEnv(dir), PORT: '0', HOST: '127.0.0.1', [name]: value })
      expect(r.code).toBe(1)
      expect(r.err).toStartWith(`agentbase: ${message}`)
      expect(existsSync(dir)).toBe(false)
    })
  }
})

describe('unknown settings', () => {
  test('a misspelt AGENTBASE_ variable stops start-up and names the likely one', () => {
    expect(() => loadConfig({ AGENTBASE_OPEN_REGISTRATON: 'on' })).toThrow('unknown setting AGENTBASE_OPEN_REGISTRATON (did you mean AGENTBASE_OPEN_REGISTRATION?)')
    expect(() => loadConfig({ AGENTBASE_WHATEVER_ELSE_ENTIRELY: '1' })).toThrow(/^unknown setting AGENTBASE_WHATEVER_ELSE_ENTIRELY; README.md "Configuration" lists every variable$/)
    // Other variables of the environment are none of ours.
    expect(loadConfig({ HOME: '/root', PATH: '/bin', AGENTBASE_DATA_DIR: '/tmp/x' }).dataDir).toBe('/tmp/x')
  })
})
