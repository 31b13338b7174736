-- POST the JSON body in BENCH_BODY (headers such as authorization come from wrk -H)
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
