--[[
  alerts_read: one read of a consumer group (lib/state/redis.ts readAlerts; the rules in
  lib/state/alerts.ts). The group is made on first use at the log's end (XGROUP CREATE $ MKSTREAM);
  the consumer's pending entries (id 0: read before, not acknowledged) come first, and one trimmed
  from the log is acknowledged and dropped; only when none is left, new entries (>).

  KEYS[1]  the log (a stream)
  ARGV     the group, the consumer, the count
  Returns a flat list: id, alert JSON, id, alert JSON, …
]]
local made = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'MKSTREAM')
if type(made) == 'table' and made.err and not string.find(made.err, 'BUSYGROUP', 1, true) then
  return redis.error_reply(made.err)
end

local function entries(reply)
  if not reply or not reply[1] then return {} end
  return reply[1][2]
end

local out = {}
local pending = entries(redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '0'))
for _, e in ipairs(pending) do
  local fields = e[2]
  if type(fields) ~= 'table' or #fields < 2 then
    redis.call('XACK', KEYS[1], ARGV[1], e[1])
  else
    out[#out + 1] = e[1]
    out[#out + 1] = fields[2]
  end
end
if #out > 0 then return out end

local fresh = entries(redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>'))
for _, e in ipairs(fresh) do
  out[#out + 1] = e[1]
  out[#out + 1] = e[2][2]
end
return out
