"""The shared wall buffer of a scaled-out run: changes wait in Redis for ONE sending process.

Why: a room's deltas must reach viewers in the order they are numbered. Redis pub/sub keeps the
order of one publisher, not across publishers: when two web processes and the scheduler each sent
their own deltas, numbered by one counter, viewers saw them cross (thousands of gaps, then a
storm of 130 KB resync snapshots). So every process only records WHAT changed here, and the one
process holding the lease (any web process or the scheduler; another takes over within
`LEASE_SECONDS` if it dies) builds and sends the deltas, in number order.

Keys (prefix = WALL_SEQ_PREFIX):
* ``<prefix>:wall:events``: a set of event ids with pending changes;
* ``<prefix>:wall:pending:<event id>``: a set of changed point ids ("e": the event itself);
* ``<prefix>:wall:wake``: a list the sender blocks on (one item at most);
* ``<prefix>:wall:leader``: the lease, holding the sending process's token ("<pid>-<random>");
* ``<prefix>:wall:inflight``: set while drained changes are being sent; a new holder that finds
  it knows its predecessor may have died between the two and resends the whole state;
* ``<prefix>:wall:preferred``: the token of the preferred sender (the scheduler process) while it
  is alive; a web process holding the lease hands it over.
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
from typing import Any

log = logging.getLogger(__name__)

#: How long a lease lasts without renewal: the longest a dead sender's changes wait for a new one.
LEASE_SECONDS = 5.0
EVENT_MEMBER = "e"
PENDING_TTL_SECONDS = 24 * 3600
#: How long an unmarked drain is remembered (longer than any flush takes).
INFLIGHT_SECONDS = 600

_ADD_LUA = """
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if redis.call('LLEN', KEYS[3]) == 0 then redis.call('RPUSH', KEYS[3], '1') end
return 1
"""

_DRAIN_LUA = """
local events = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
if #events > 0 then redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3]) end
local out = {}
for _, ev in ipairs(events) do
  local key = ARGV[1] .. ev
  out[#out + 1] = ev
  out[#out + 1] = redis.call('SMEMBERS', key)
  redis.call('DEL', key)
end
return out
"""

_RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class WallRelay:
    """Pending wall changes and the sender's lease, in Redis (one per process and Redis URL)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.token = f"{os.getpid()}-{secrets.token_hex(6)}"  # the pid says which process sends (ops, tests)
        self.lock = threading.Lock()
        #: Held while drained changes are sent, so two threads of one process never interleave deltas.
        self.send_lock = threading.Lock()
        self.candidate_alive = False
        #: This process is the preferred sender (see `prefer`).
        self.preferred = False
        self._add = client.register_script(_ADD_LUA)
        self._drain = client.register_script(_DRAIN_LUA)
        self._renew = client.register_script(_RENEW_LUA)
        self._release = client.register_script(_RELEASE_LUA)

    def _k(self, name: str) -> str:
        return f"{self.prefix}:wall:{name}"

    def add(self, event_id: int, point_id: int | None) -> None:
        """Record that `point_id` of `event_id` changed (None: the event itself) and wake the sender."""
        member = EVENT_MEMBER if point_id is None else str(int(point_id))
        self._add(keys=[self._k(f"pending:{int(event_id)}"), self._k("events"), self._k("wake")],
                  args=[member, int(event_id), PENDING_TTL_SECONDS])

    def drain(self) -> dict[int, set[int | None]]:
        """Take everything pending, atomically (only the lease holder calls it); call `sent` after."""
        raw = self._drain(keys=[self._k("events"), self._k("wake"), self._k("inflight")],
                          args=[self._k("pending:"), self.token, int(INFLIGHT_SECONDS * 1000)])
        out: dict[int, set[int | None]] = {}
        for i in range(0, len(raw), 2):
            ids: set[int | None] = set()
            for member in raw[i + 1]:
                text = member.decode() if isinstance(member, bytes) else str(member)
                ids.add(None if text == EVENT_MEMBER else int(text))
            out[int(raw[i])] = ids
        return out

    def sent(self) -> None:
        """What `drain` returned has been sent."""
        self._release(keys=[self._k("inflight")], args=[self.token])

    def predecessor_died_sending(self) -> bool:
        """True when the last drain was never marked sent (its sender died or lost the lease mid-way)."""
        return bool(self.client.exists(self._k("inflight")))

    def forget_inflight(self) -> None:
        """The new holder has resent everything."""
        self.client.delete(self._k("inflight"))

    def wait(self, timeout: float) -> bool:
        """Block until something is pending or `timeout` passes; True when woken."""
        return self.client.blpop([self._k("wake")], timeout=timeout) is not None

    def hold_lease(self) -> tuple[bool, bool]:
        """(holding, just acquired): renew this process's lease, or take it if nobody holds it."""
        ms = int(LEASE_SECONDS * 1000)
        if int(self._renew(keys=[self._k("leader")], args=[self.token, ms])):
            return True, False
        if self.client.set(self._k("leader"), self.token, nx=True, px=ms):
            return True, True
        return False, False

    def prefer(self) -> None:
        """Say this process is the preferred sender, for the next few lease periods."""
        self.client.set(self._k("preferred"), self.token, px=int(LEASE_SECONDS * 3000))

    def preferred_elsewhere(self) -> bool:
        """True while another process is the preferred sender (alive)."""
        value = self.client.get(self._k("preferred"))
        return value is not None and (value.decode() if isinstance(value, bytes) else str(value)) != self.token

    def release_lease(self) -> None:
        """Give the lease up (shutdown), so another process takes over at once."""
        self._release(keys=[self._k("leader")], args=[self.token])
