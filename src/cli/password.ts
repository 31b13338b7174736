/**
 * The password for `user create` without putting it on the command line (visible in `ps` and shell
 * history): piped on stdin (first line), or typed at a prompt that does not echo it.
 */
export async function readPassword(): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) {
    const text = await new Response(Bun.stdin.stream()).text()
    return text.split(/\r?\n/)[0] ?? ''
  }
  const first = await prompt('Password: ')
  const again = await prompt('Repeat password: ')
  if (first !== again) throw new PasswordMismatch('the two passwords differ')
  return first
}

export class PasswordMismatch extends Error {}

/** Typed-ahead characters left after a line ended (both answers can arrive in one chunk). */
let pending = ''

/** One line from the terminal with echo off (raw mode); Ctrl-C aborts. */
function prompt(label: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(label)
  stdin.setRawMode(true)
  stdin.resume()
  return new Promise((resolve, reject) => {
    let value = ''
    const done = (fn: () => void) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      fn()
    }
    const take = (text: string) => {
      const chars = [...text]
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i]
        if (ch === '\r' || ch === '\n') {
          pending = chars.slice(i + 1).join('').replace(/^\n/, '')
          done(() => resolve(value))
          return true
        }
        if (ch === '\u0003') { pending = ''; done(() => reject(new PasswordMismatch('cancelled'))); return true }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
      return false
    }
    const onData = (chunk: Buffer) => { take(chunk.toString('utf8')) }
    stdin.on('data', onData)
    const early = pending
    pending = ''
    if (early) take(early)
  })
}
