--[[
  alerts_publish: alerts appended to the alert log, each unless its cooldown mark lives
  (lib/state/redis.ts publishAlerts; the rules in lib/state/alerts.ts). One slot ({alerts}).

  KEYS[1]      the log (a stream)
  KEYS[2]      the number of the last alert published (the ids are 0-<n>, the same in every store)
  KEYS[2 + i]  the cooldown mark of alert i (its scope: type, route, group, campaign, rule, severity)
  ARGV[1]      the cooldown (ms; 0: none)
  ARGV[2]      how many alerts the log keeps (MAXLEN ~)
  ARGV[2 + i]  alert i's JSON
  Returns the ids of the alerts published, in order
]]
local cooldown = tonumber(ARGV[1])
local ids = {}
for i = 3, #ARGV do
  local fresh = true
  if cooldown > 0 then
    fresh = redis.call('SET', KEYS[i], '1', 'PX', cooldown, 'NX')
  end
  if fresh then
    local n = redis.call('INCR', KEYS[2])
    local id = '0-' .. n
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], id, 'a', ARGV[i])
    ids[#ids + 1] = id
  end
end
return ids
