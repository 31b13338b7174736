-- One Telegram update per request, each with a new update_id (duplicates would be acknowledged without a write).
local secret = os.getenv("BENCH_SECRET")
local base = tonumber(os.getenv("BENCH_BASE") or "1")
local n = 0
local thread_id = 0
setup = function(thread) thread:set("tid", thread_id); thread_id = thread_id + 1 end
request = function()
  n = n + 1
  local id = base + (tid or 0) * 100000000 + n
  local chat = 1000 + (n % 200)
  local body = string.format('{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"B"},"text":"hello %d"}}', id, id, chat, chat, id)
  return wrk.format("POST", nil, { ["content-type"] = "application/json", ["x-telegram-bot-api-secret-token"] = secret }, body)
end
