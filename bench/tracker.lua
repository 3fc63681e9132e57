-- wrk script for bench/tracker.ts: a fixed population of simulated peers re-announcing.
--
-- wrk -s bench/tracker.lua URL -- KEY=VALUE ...
--   data=DIR        folder with hashes.txt (40 hex chars a line), passkeys.txt (32 hex a line) and
--                   peers.txt (line i+1: "torrent port" of peer i, torrent 1-based into hashes.txt),
--                   all written by bench/tracker.ts, which owns the population
--   peers=N         population size: peers 0..N-1; peer i is the same simulated client in every run
--   style=passkey|plain   /<passkey>/announce (Fairywren) or /announce (the others)
--   base=B          added to every uploaded counter, so counters keep rising from run to run
--   seed=S          PRNG seed of a run
--
-- Each request picks a peer at random: 95% re-announce it (no event, numwant=50, compact=1), 5%
-- scrape its torrent. Peer i always sends the same peer_id (see peerId), passkey (member
-- i % members), port and left (seeder when i % 4 == 0), and an uploaded counter that only grows.
-- done() prints one "BENCH_JSON {...}" line for bench/tracker.ts.

local SCRAPE_PERCENT = 5
local NUMWANT = 50

local cfg = {}
local hashes, passkeys, torrentOf, portOf
local members, peers
local counter = 0
local rng
-- The request's tail after the path (" HTTP/1.1", headers, blank line), built once in init:
-- wrk.format per request would cost more client CPU than some of the servers spend answering.
local headerBlock
-- Globals, so that done() can read them from each thread with thread:get().
failures, responses = 0, 0

local function readLines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  for line in f:lines() do
    if #line > 0 then out[#out + 1] = line end
  end
  f:close()
  return out
end

-- Percent-encodes the bytes given in hex, leaving RFC 3986 unreserved bytes as they are (as real
-- clients do, so the trackers' decoders see both forms).
local function encodeHex(hex)
  local parts = {}
  for k = 1, #hex, 2 do
    local b = tonumber(hex:sub(k, k + 1), 16)
    if (b >= 48 and b <= 57) or (b >= 65 and b <= 90) or (b >= 97 and b <= 122) or b == 45 or b == 46
      or b == 95 or b == 126 then
      parts[#parts + 1] = string.char(b)
    else
      parts[#parts + 1] = string.format("%%%02X", b)
    end
  end
  return table.concat(parts)
end

local bit = require("bit")

-- a * b mod 2^32 as an int32, exact (a double holds neither half-product's overflow).
local function mul32(a, b)
  a, b = bit.tobit(a), bit.tobit(b)
  return bit.tobit(bit.band(a, 0xffff) * b + bit.tobit(bit.rshift(a, 16) * b) * 65536)
end

-- peer_id: client prefix, 4 binary bytes of i (percent-encoded, as clients send them), then 8 hex
-- digits of i * 0x9e3779b1 mod 2^32. bench/tracker.ts builds the same ids for the warm-up.
local function peerId(i)
  return string.format("-BM0001-%%%02X%%%02X%%%02X%%%02X%s", bit.band(bit.rshift(i, 24), 255),
    bit.band(bit.rshift(i, 16), 255), bit.band(bit.rshift(i, 8), 255), bit.band(i, 255),
    bit.tohex(mul32(i, -1640531535), 8))
end

local function prepare()
  hashes = readLines(cfg.data .. "/hashes.txt")
  for k = 1, #hashes do hashes[k] = encodeHex(hashes[k]) end
  passkeys = readLines(cfg.data .. "/passkeys.txt")
  members = #passkeys
  torrentOf, portOf = {}, {}
  local f = assert(io.open(cfg.data .. "/peers.txt", "r"))
  local i = 0
  for line in f:lines() do
    if i >= peers then break end
    local t, p = line:match("^(%d+) (%d+)$")
    torrentOf[i] = tonumber(t)
    portOf[i] = p
    i = i + 1
  end
  f:close()
  assert(i == peers, "peers.txt holds fewer peers than asked for")
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
  peers = tonumber(cfg.peers)
  cfg.base = tonumber(cfg.base or "0")
  rng = tonumber(cfg.seed or "1")
  prepare()
  local lines = { " HTTP/1.1", "Host: " .. wrk.host .. ":" .. wrk.port }
  for name, value in pairs(wrk.headers) do
    if name ~= "Host" then lines[#lines + 1] = name .. ": " .. value end
  end
  lines[#lines + 1] = "\r\n"
  headerBlock = table.concat(lines, "\r\n")
  if cfg.check == "1" then
    -- Parse every reply and count failures (HTTP errors and bencoded "failure reason"s).
    response = function(status, headers, body)
      responses = responses + 1
      if status ~= 200 or (body and body:sub(1, 11) == "d14:failure") then
        failures = failures + 1
        if failures <= 3 then io.stderr:write("failure: ", status, " ", tostring(body), "\n") end
      end
    end
  end
end

local function prefix(i)
  if cfg.style == "passkey" then return "GET /" .. passkeys[i % members + 1] .. "/" end
  return "GET /"
end

local function announce(i)
  local uploaded = cfg.base + counter * 1024
  local seeder = i % 4 == 0
  return prefix(i) .. "announce?info_hash=" .. hashes[torrentOf[i]] .. "&peer_id=" .. peerId(i) ..
    "&port=" .. portOf[i] .. "&uploaded=" .. uploaded .. "&downloaded=" .. (seeder and 0 or uploaded) ..
    "&left=" .. (seeder and 0 or 734003200) .. "&numwant=" .. NUMWANT .. "&compact=1" .. headerBlock
end

local function xorshift()
  rng = bit.bxor(rng, bit.lshift(rng, 13))
  rng = bit.bxor(rng, bit.rshift(rng, 17))
  rng = bit.bxor(rng, bit.lshift(rng, 5))
  return bit.band(rng, 0x7fffffff)
end

function request()
  counter = counter + 1
  local i = xorshift() % peers
  if xorshift() % 100 < SCRAPE_PERCENT then
    return prefix(i) .. "scrape?info_hash=" .. hashes[torrentOf[i]] .. headerBlock
  end
  return announce(i)
end

function done(summary, latency, requests)
  local fails, seen = 0, 0
  for _, t in ipairs(threads or {}) do
    fails = fails + (t:get("failures") or 0)
    seen = seen + (t:get("responses") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d," ..
    "\"mean_us\":%.1f,\"connect_errors\":%d,\"read_errors\":%d,\"write_errors\":%d,\"status_errors\":%d," ..
    "\"timeouts\":%d,\"failures\":%d,\"checked\":%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout, fails, seen))
end
