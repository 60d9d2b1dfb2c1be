"""Key names and the Lua scripts of the Redis broker: each multi-key step is one atomic script.

Layout (prefix `hydra` by default):
  {p}:q:{domain}:{queue}   stream of deliveries, consumer group `workers`
  {p}:streams              set of every queue stream (the leader scans them for orphans)
  {p}:inq                  hash run id -> "<stream>\\n<entry id>": runs on a queue or claimed and
                           not yet ended, so enqueueing a run twice (a requeue after failover) is a
                           no-op and a cancel can delete the exact entry
  {p}:events               stream of worker events, consumer group `schedulers`
  {p}:live / {p}:ctl:{domain} / {p}:sched   pub/sub: live fan-out, worker control, nudges
  {p}:cancel:{run}  {p}:abort:{run}:{worker}  {p}:drain:{worker}   durable control markers
  {p}:started:{run}                          a worker began starting the run (until its ack)
  {p}:lease:{worker} + {p}:workers          worker leases (keys with a TTL) and their index
  {p}:leader                                the leader lease
  {p}:replica:{instance}                     a scheduler replica reading events (short TTL)
  {p}:boot                                  boot id: missing means Redis lost its data
"""

from __future__ import annotations

QUEUE_GROUP = "workers"
EVENTS_GROUP = "schedulers"
RECOVERY_CONSUMER = "hydra-recovery"


class Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.streams = f"{prefix}:streams"
        self.inq = f"{prefix}:inq"
        self.events = f"{prefix}:events"
        self.live = f"{prefix}:live"
        self.sched = f"{prefix}:sched"
        self.workers = f"{prefix}:workers"
        self.lease_prefix = f"{prefix}:lease:"
        self.leader = f"{prefix}:leader"
        self.boot = f"{prefix}:boot"
        self.creds = f"{prefix}:creds"
        self.creds_complete = f"{prefix}:creds-complete"

    def queue(self, domain: str, queue: str) -> str:
        return f"{self.prefix}:q:{domain}:{queue}"

    def parse_queue(self, stream: str) -> tuple[str, str] | None:
        head = f"{self.prefix}:q:"
        if not stream.startswith(head):
            return None
        domain, sep, queue = stream[len(head) :].partition(":")
        return (domain, queue) if sep else None

    def control(self, domain: str) -> str:
        return f"{self.prefix}:ctl:{domain}"

    def cancel(self, run_id: str) -> str:
        return f"{self.prefix}:cancel:{run_id}"

    def abort(self, run_id: str, worker_id: str) -> str:
        return f"{self.prefix}:abort:{run_id}:{worker_id}"

    def started(self, run_id: str) -> str:
        return f"{self.prefix}:started:{run_id}"

    def drain(self, worker_id: str) -> str:
        return f"{self.prefix}:drain:{worker_id}"

    def replica(self, instance: str) -> str:
        return f"{self.prefix}:replica:{instance}"

    def lease(self, worker_id: str) -> str:
        return self.lease_prefix + worker_id


# KEYS: stream, inq, streams. ARGV: groups of (run id, payload, signature, ticket).
# Runs already on a queue (or claimed and not ended) are skipped: enqueueing is idempotent.
ENQUEUE = """
local added = 0
for i = 1, #ARGV, 4 do
  local rid = ARGV[i]
  if redis.call('HEXISTS', KEYS[2], rid) == 0 then
    local id = redis.call('XADD', KEYS[1], '*', 'r', rid, 'p', ARGV[i+1], 's', ARGV[i+2],
                          't', ARGV[i+3])
    redis.call('HSET', KEYS[2], rid, KEYS[1] .. '\\n' .. id)
    added = added + 1
  end
end
redis.call('SADD', KEYS[3], KEYS[1])
return added
"""

# KEYS: stream, inq. ARGV: group, entry id. Moves a still-pending entry to the tail of its stream.
REDELIVER = """
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 then return 0 end
local entries = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if #entries == 0 then return 0 end
local fields = entries[1][2]
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
for i = 1, #fields, 2 do
  if fields[i] == 'r' then
    if redis.call('HGET', KEYS[2], fields[i+1]) == KEYS[1] .. '\\n' .. ARGV[2] then
      redis.call('HSET', KEYS[2], fields[i+1], KEYS[1] .. '\\n' .. id)
    end
  end
end
return 1
"""

# KEYS: stream, inq. ARGV: group, entry id, run id ('' if unknown). Acks and deletes an entry
# that will never run (forged, or not for this worker); if it was the run's genuine entry, the
# run may be enqueued again (the leader's periodic requeue picks it up).
DROP = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if ARGV[3] ~= '' and redis.call('HGET', KEYS[2], ARGV[3]) == KEYS[1] .. '\\n' .. ARGV[2] then
  redis.call('HDEL', KEYS[2], ARGV[3])
end
return 1
"""

# KEYS: inq. ARGV: run id, group. Removes a run's entry wherever it is (queued or claimed).
PURGE = """
local where = redis.call('HGET', KEYS[1], ARGV[1])
if not where then return 0 end
local cut = string.find(where, '\\n', 1, true)
local stream, id = string.sub(where, 1, cut - 1), string.sub(where, cut + 1)
pcall(redis.call, 'XACK', stream, ARGV[2], id)
redis.call('XDEL', stream, id)
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""

# KEYS: lease, workers. ARGV: ttl ms, worker id.
RENEW_LEASE = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
"""

# KEYS: workers, boot. ARGV: lease key prefix, boot id to set if missing.
# Returns {boot id, 1 if this call created it, live worker ids...}.
LIVE_WORKERS = """
local boot = redis.call('GET', KEYS[2])
local created = 0
if not boot then
  redis.call('SET', KEYS[2], ARGV[2])
  boot = ARGV[2]
  created = 1
end
local out = {boot, created}
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. w) == 1 then
    table.insert(out, w)
  else
    redis.call('SREM', KEYS[1], w)
  end
end
return out
"""

# KEYS: boot. ARGV: boot id to set if missing. Returns {boot id, 1 if created}.
BOOT = """
local boot = redis.call('GET', KEYS[1])
if boot then return {boot, 0} end
redis.call('SET', KEYS[1], ARGV[1])
return {ARGV[1], 1}
"""

# KEYS: leader. ARGV: holder, ttl ms. Compare-and-renew, or acquire if free.
TRY_LEAD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# KEYS: leader. ARGV: holder. Compare-and-delete.
RESIGN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
