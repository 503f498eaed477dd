-- wrk script for bench/load.py: one header (a token or a session cookie) taken in turn
-- from LOAD_HEADER_VALUES ("|"-separated), and a JSON summary that counts every answer
-- other than 200 as an error (a lost session would otherwise pass as a 302 to the login).
local name = os.getenv("LOAD_HEADER_NAME")
local values = {}
for value in string.gmatch(os.getenv("LOAD_HEADER_VALUES") or "", "[^|]+") do
  table.insert(values, value)
end

local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = offset
  not_ok = 0
end

function request()
  counter = counter + 1
  local headers = {}
  if name and #values > 0 then
    headers[name] = values[(counter % #values) + 1]
  end
  return wrk.format("GET", nil, headers)
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_ok")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "not_200": %d, "connect": %d, '
    .. '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, bad, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
