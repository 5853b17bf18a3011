/**
 * `trimAcked` for the Redis driver: one script, so the groups' positions it reads and the
 * XTRIM it runs see the same stream, with no append, read or ack in between.
 */
import type { Redis } from 'ioredis';

/**
 * KEYS[1]: the stream. For each group, the first entry it may still need is its oldest pending
 * one, or else the one after what it last read; XTRIM MINID deletes everything before the
 * lowest of those. Ids are compared as numbers (ms and seq both fit a Lua double exactly).
 */
const trimScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local floorMs, floorSeq
for _, group in ipairs(groups) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  local ms, seq
  if info['pending'] > 0 then
    ms, seq = parse(redis.call('XPENDING', KEYS[1], info['name'])[2])
  else
    ms, seq = parse(info['last-delivered-id'])
    seq = seq + 1
  end
  if floorMs == nil or ms < floorMs or (ms == floorMs and seq < floorSeq) then
    floorMs, floorSeq = ms, seq
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-%d', floorMs, floorSeq))
`;

interface TrimCommand {
  agoraTrimAcked(stream: string): Promise<number>;
}

/** Registers the script on a connection. */
export function defineTrimCommand(redis: Redis): void {
  redis.defineCommand('agoraTrimAcked', { numberOfKeys: 1, lua: trimScript });
}

export function trimAcked(redis: Redis, stream: string): Promise<number> {
  return (redis as Redis & TrimCommand).agoraTrimAcked(stream);
}
