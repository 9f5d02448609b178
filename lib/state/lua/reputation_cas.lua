--[[
  reputation_cas: writes a domain group's changed route reputation states if nobody wrote the
  group since the caller read it (lib/state/redis.ts updateReputation applies the rules of
  lib/state/reputation.ts to what it read, then calls this; on a refusal it reads and applies again).

  KEYS[1]  the group's reputation hash (route -> state JSON)
  KEYS[2]  the group's version counter
  ARGV[1]  the version the caller read ('' = none yet)
  ARGV[2]  how long the group is kept after this write (ms)
  ARGV[3..] route, state JSON, route, state JSON, ...
  Returns 1 when written, 0 when the version moved (nothing written)
]]
local version = redis.call('GET', KEYS[2]) or ''
if version ~= ARGV[1] then return 0 end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
