/** Display helpers: times in the browser's zone, money in cents, sizes in binary units. */
export const when = (s: string | null | undefined) => (s ? new Date(s).toLocaleString() : '—')

export function ago(s: string | null | undefined) {
  if (!s) return '—'
  const secs = Math.round((Date.now() - Date.parse(s)) / 1000)
  if (secs < 60) return `${Math.max(secs, 0)} s ago`
  if (secs < 3600) return `${Math.round(secs / 60)} min ago`
  if (secs < 86400) return `${Math.round(secs / 3600)} h ago`
  return `${Math.round(secs / 86400)} d ago`
}

export const cents = (n: number | null | undefined) => (n == null ? '—' : `$${(n / 100).toFixed(n !== 0 && Math.abs(n) < 1 ? 4 : 2)}`)

export function bytes(n: number) {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`
}

export function duration(secs: number) {
  const d = Math.floor(secs / 86400), h = Math.floor((secs % 86400) / 3600), m = Math.floor((secs % 3600) / 60)
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min ${secs % 60} s`
}

/** "+12%" style change of `now` against `before`. */
export function change(now: number, before: number) {
  if (!before) return now ? 'new' : 'no change'
  const pct = Math.round(((now - before) / before) * 100)
  return `${pct > 0 ? '+' : ''}${pct}% vs previous 7 days`
}
