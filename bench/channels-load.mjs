// Load generator for bench/channels.ts, run under node (its own process): autocannon POSTing Telegram
// updates, each with a new update_id. Usage: node bench/channels-load.mjs <url> <secret> <firstId> <seconds> <connections>
import autocannon from 'autocannon'

const [url, secret, first, seconds, connections] = process.argv.slice(2)
let id = Number(first)
const body = (n) => JSON.stringify({
  update_id: n,
  message: { message_id: n, date: 1710000000, chat: { id: 1000 + (n % 500), type: 'private' }, from: { id: 1000 + (n % 500), is_bot: false, first_name: 'Bench' }, text: `message ${n}` },
})
autocannon({
  url, connections: Number(connections), duration: Number(seconds), method: 'POST',
  headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
  requests: [{ setupRequest: (req) => ({ ...req, body: body(++id) }) }],
}, (err, res) => {
  if (err) { console.error(err); process.exit(1) }
  console.log(JSON.stringify({ rps: res.requests.average, total: res.requests.total, non2xx: res.non2xx, errors: res.errors, timeouts: res.timeouts, latency: res.latency }))
})
