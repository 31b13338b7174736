/** For the benchmarks: a spawned role prints "<url> <ids...>" as its first line once it listens. */
export async function firstLine(stdout: ReadableStream<Uint8Array>, role: string): Promise<string[]> {
  const reader = stdout.getReader()
  const dec = new TextDecoder()
  let line = ''
  while (!line.includes('\n')) {
    const r = await reader.read()
    if (r.done) throw new Error(`${role} exited before it listened`)
    line += dec.decode(r.value, { stream: true })
  }
  return line.trim().split(' ')
}
