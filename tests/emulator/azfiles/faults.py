"""Fault injection.

SPEC   := RULE ("," RULE)*            (empty SPEC = no faults)
RULE   := KIND ":" PROB [":" MS] ["@" OP] [":count=" N]
KIND   := 503 | 500 | drop | slow
  503   answer 503 ServerBusy (real error XML), nothing applied
  500   answer 500 OperationTimedOut (real error XML), nothing applied
  drop  close the TCP connection without answering, nothing applied
  slow  delay the reply by MS milliseconds (the request is then served)
PROB   := probability in [0, 1] that a matching request gets the fault
OP     := REST operation name (CreateFile, PutRange, ...); absent = every op
count=N:  the rule fires at most N more times, then it is spent

Examples: "503:0.1", "500:0.05@PutRange", "drop:1.0@CreateFile:count=1",
"slow:0.1:2000", "slow:1.0:500@GetFile:count=3".
Rules are tried in order; the first error rule (503/500/drop) that fires
wins; slow rules add their delays. Threads: one lock guards the rules and
the random generator.
"""
import random
import re
import threading

KINDS = ("503", "500", "drop", "slow")


class FaultSpecError(ValueError):
    pass


class Rule:
    def __init__(self, kind, prob, ms, op, count):
        self.kind, self.prob, self.ms, self.op, self.count = kind, prob, ms, op, count

    def as_dict(self):
        return {"kind": self.kind, "prob": self.prob, "ms": self.ms, "op": self.op,
                "count": self.count}


def parse_rule(text):
    body, _, scope = text.strip().partition("@")
    tokens = body.split(":")
    count = None
    if scope:
        stoks = scope.split(":")
        op = stoks[0]
        extra = stoks[1:]
        if not re.match(r"^[A-Za-z]+$", op):
            raise FaultSpecError("bad operation name %r in %r" % (op, text))
    else:
        op, extra = None, []
    for t in tokens[1:] + extra:
        if t.startswith("count="):
            if not re.match(r"^count=\d+$", t):
                raise FaultSpecError("bad count in %r" % text)
            count = int(t[6:])
    tokens = [t for t in tokens if not t.startswith("count=")]
    extra = [t for t in extra if not t.startswith("count=")]
    if extra:
        raise FaultSpecError("unexpected %r in %r" % (extra, text))
    kind = tokens[0]
    if kind not in KINDS:
        raise FaultSpecError("unknown fault kind %r in %r (use 503, 500, drop, slow)"
                             % (kind, text))
    if len(tokens) < 2:
        raise FaultSpecError("missing probability in %r" % text)
    try:
        prob = float(tokens[1])
    except ValueError:
        raise FaultSpecError("bad probability %r in %r" % (tokens[1], text))
    if not 0.0 <= prob <= 1.0:
        raise FaultSpecError("probability out of [0, 1] in %r" % text)
    ms = 0
    if kind == "slow":
        if len(tokens) != 3 or not tokens[2].isdigit():
            raise FaultSpecError("slow needs a delay in ms: slow:PROB:MS (%r)" % text)
        ms = int(tokens[2])
    elif len(tokens) != 2:
        raise FaultSpecError("too many fields in %r" % text)
    return Rule(kind, prob, ms, op, count)


def parse_spec(spec):
    spec = (spec or "").strip()
    if not spec:
        return []
    return [parse_rule(part) for part in spec.split(",") if part.strip()]


class Faults:
    def __init__(self, spec="", seed=None):
        self.lock = threading.Lock()
        self.rng = random.Random(seed)     # protected by lock
        self.spec = ""                     # protected by lock
        self.rules = []                    # protected by lock
        self.set(spec)

    def set(self, spec):
        rules = parse_spec(spec)
        with self.lock:
            self.rules = rules
            self.spec = (spec or "").strip()

    def show(self):
        with self.lock:
            return {"spec": self.spec, "rules": [r.as_dict() for r in self.rules]}

    def decide(self, op):
        """-> (error kind or None, extra delay in ms) for one request."""
        error, delay = None, 0
        with self.lock:
            for r in self.rules:
                if r.op is not None and r.op != op:
                    continue
                if r.count is not None and r.count <= 0:
                    continue
                if r.kind != "slow" and error is not None:
                    continue
                if self.rng.random() >= r.prob:
                    continue
                if r.count is not None:
                    r.count -= 1
                if r.kind == "slow":
                    delay += r.ms
                else:
                    error = r.kind
        return error, delay
