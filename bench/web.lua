-- wrk script for bench/web.ts: logged-in members loading pages.
--
-- wrk -s bench/web.lua URL -- paths=FILE cookies=FILE seed=S
--   paths=FILE    one path a line (written by bench/web.ts); each request takes one at random
--   cookies=FILE  one Cookie header value a line; connection k of a thread always uses line k
--   seed=S        PRNG seed of a run
-- Every reply is checked: anything but a 200 with an HTML body counts as a failure.
-- done() prints one "BENCH_JSON {...}" line for bench/web.ts.

local bit = require("bit")
local cfg = {}
local paths, cookies
local rng
local headerTail
-- Globals, so that done() can read them from each thread with thread:get().
failures, responses, bytes = 0, 0, 0

local function readLines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  for line in f:lines() do
    if #line > 0 then out[#out + 1] = line end
  end
  f:close()
  return out
end

function setup(thread)
  threads = threads or {}
  threads[#threads + 1] = thread
end

function init(args)
  for _, a in ipairs(args) do
    local k, v = a:match("^([^=]+)=(.*)$")
    if k then cfg[k] = v end
  end
  rng = tonumber(cfg.seed or "1")
  paths = readLines(cfg.paths)
  cookies = readLines(cfg.cookies)
  headerTail = " HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port .. "\r\nAccept: text/html\r\nCookie: "
end

local function xorshift()
  rng = bit.bxor(rng, bit.lshift(rng, 13))
  rng = bit.bxor(rng, bit.rshift(rng, 17))
  rng = bit.bxor(rng, bit.lshift(rng, 5))
  return bit.band(rng, 0x7fffffff)
end

function request()
  local path = paths[xorshift() % #paths + 1]
  local cookie = cookies[xorshift() % #cookies + 1]
  return "GET " .. path .. headerTail .. cookie .. "\r\n\r\n"
end

function response(status, headers, body)
  responses = responses + 1
  if body then bytes = bytes + #body end
  if status ~= 200 or not body or not body:find("</html>", 1, true) then
    failures = failures + 1
    if failures <= 3 then io.stderr:write("failure: ", status, " ", tostring(body):sub(1, 300), "\n") end
  end
end

function done(summary, latency, requests)
  local fails, seen, size = 0, 0, 0
  for _, t in ipairs(threads or {}) do
    fails = fails + (t:get("failures") or 0)
    seen = seen + (t:get("responses") or 0)
    size = size + (t:get("bytes") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d," ..
    "\"mean_us\":%.1f,\"socket_errors\":%d,\"status_errors\":%d,\"failures\":%d,\"checked\":%d,\"bytes\":%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect + e.read + e.write + e.timeout, e.status,
    fails, seen, size))
end
