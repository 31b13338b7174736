-- POST /api/run/:slug with the endpoint key (wrk.path set by -s args: key)
local key = os.getenv("BENCH_KEY")
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["x-api-key"] = key
wrk.body = '{"input":"Summarize: benchmarks measure things."}'
