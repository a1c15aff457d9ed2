"""Sessions that outlive their WebSocket: a reload, or a Reconnect after the network dropped, gets its old one.

The server gives every new session a token (128 random bits from `secrets`, as hex) in its first reply,
{"type": "session", "token": ..., "resumed": false}. The page keeps it in sessionStorage, which is per tab and
survives a reload, and sends it back in its hello. When the socket closes, the session is detached, not freed:
training pauses, and for GRACE_SECONDS the same token attaches it again, weights, counters, lecture step and
undo stack included. At most MAX_DETACHED sessions wait at once, holding at most MAX_DETACHED_BYTES of arrays
between them (the oldest go first), so memory stays bounded however many tabs come and go: sixteen sessions of
the largest network the page allows (8 layers of 256 units, 4 MB of weights) with full undo stacks would hold
about 1.4 GB.

A token that is unknown (a restarted server, a typo), expired, or attached to a live connection gets a fresh
session, silently: a duplicated tab copies sessionStorage, so two tabs may send the same token, and the second
must not take the first one's session away. A reload's new socket may arrive before the server has seen the old
one close, so an attached token is waited for up to RECLAIM_SECONDS before it counts as taken.

Everything here runs on the server's event loop (one thread), so the store needs no lock. Expired sessions are
dropped when the next tab connects or leaves, and at the latest 0.1 s after their grace ends.
"""

import asyncio
import secrets
import time

import numpy as np

from .driver import error
from .lecture import current_step, open_link, push_undo, split_step
from .protocol import Hello, ProtocolError, parse_message
from .state import decode_hash

GRACE_SECONDS = 600     # a detached session waits this long for its tab to come back
MAX_DETACHED = 16       # at most this many detached sessions are kept; the oldest is dropped first
MAX_DETACHED_BYTES = 256 * 2**20    # ... and at most this many bytes of arrays (weights, data, undo snapshots)
RECLAIM_SECONDS = 2.0   # how long a token still attached may take to be released by its closing socket


def new_token():
    """128 random bits as 32 hex digits (protocol.TOKEN_PATTERN)."""
    return secrets.token_hex(16)


class _Entry:
    def __init__(self, session):
        self.session = session
        self.attached = True
        self.since = 0.0                    # when it was detached (clock time)
        self.nbytes = 0                     # its arrays' bytes, counted when it was detached
        self.released = asyncio.Event()     # set while detached


class SessionStore:
    """token -> session, for the sessions of live connections and those detached for at most `grace` seconds."""

    def __init__(self, grace=GRACE_SECONDS, keep=MAX_DETACHED, reclaim=RECLAIM_SECONDS, clock=time.monotonic,
                 keep_bytes=MAX_DETACHED_BYTES):
        self.grace, self.keep, self.reclaim, self.clock = grace, keep, reclaim, clock
        self.keep_bytes = keep_bytes
        self._entries = {}

    def add(self, session):
        """Keep a new session, attached; returns its token."""
        token = new_token()
        self._entries[token] = _Entry(session)
        return token

    async def claim(self, token):
        """The detached session of `token`, attached again; None when the token is unknown, expired or taken."""
        self._expire()
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry.attached:
            try:
                await asyncio.wait_for(entry.released.wait(), self.reclaim)
            except asyncio.TimeoutError:
                return None                 # a live tab holds it (a duplicated tab): not ours
            self._expire()
            if self._entries.get(token) is not entry or entry.attached:
                return None
        entry.attached = True
        entry.released.clear()
        return entry.session

    def detach(self, token):
        """The connection of `token` closed: its session pauses and waits for its tab."""
        entry = self._entries.get(token)
        if entry is None:
            return
        entry.session.playing = False
        entry.attached = False
        entry.since = self.clock()
        entry.nbytes = array_bytes(vars(entry.session))
        entry.released.set()
        self._expire()
        # free it when its grace ends, even if no other tab connects meanwhile
        asyncio.get_running_loop().call_later(self.grace + 0.1, self._expire)

    @property
    def detached(self):
        """Tokens of the sessions waiting for their tab, oldest first."""
        waiting = [(e.since, t) for t, e in self._entries.items() if not e.attached]
        return [t for _, t in sorted(waiting)]

    def __contains__(self, token):
        return token in self._entries

    def session(self, token):
        """The session of `token`, attached or waiting; None when there is none."""
        entry = self._entries.get(token)
        return entry.session if entry is not None else None

    def _expire(self):
        now = self.clock()
        waiting = self.detached
        held = sum(self._entries[t].nbytes for t in waiting)
        for i, token in enumerate(waiting):
            entry = self._entries[token]
            if now - entry.since > self.grace or len(waiting) - i > self.keep or held > self.keep_bytes:
                held -= entry.nbytes
                del self._entries[token]


def array_bytes(obj, seen=None):
    """The bytes of the NumPy arrays reachable from obj through dicts, lists, tuples and objects' attributes
    (a session's data, weights, optimizer state and undo snapshots), each array counted once."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes if obj.base is None else 0    # a view holds no bytes of its own
    if isinstance(obj, dict):
        return sum(array_bytes(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple, set)):
        return sum(array_bytes(v, seen) for v in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type) and type(obj).__module__.startswith("relunet"):
        return array_bytes(vars(obj), seen)
    return 0


def hello_of(text):
    """The page's first message parsed, when it is a hello; None for anything else (answered as usual)."""
    try:
        m = parse_message(text)
    except ProtocolError:
        return None
    return m if isinstance(m, Hello) else None


def rejoin(session, hello):
    """The replies to a returning tab's hello: its session as it was left (the next frame repaints the map,
    weights and counters), unless its link names another experiment or lecture step.

    The link wins then, and Undo brings the session's work back: the page shows what its address bar says
    (a reload shows the link the page itself wrote, so the two differ only when someone edited or followed a
    link in this tab, and that is what they asked for), and nothing trained is lost.
    """
    with session.lock:
        try:
            rest, step = split_step(hello.hash)
            other_experiment = bool(rest) and decode_hash(rest) != session.config
            other_step = step is not None and step != current_step(session)
            if other_experiment or other_step:
                push_undo(session)
                open_link(session, hello.hash)
            out = []
        except ProtocolError as e:
            out = [error(str(e))]
        session.dirty = True
        return out + [session.state()]
