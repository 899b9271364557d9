r"""Resource bounds, checked before work starts: memory, enumeration sizes and statistical budgets.

A request that cannot finish is refused at once with a message that says what was asked, what it would
need and how to change it -- instead of a progress bar stuck at 0 %, a memory blow-up or a traceback:

* :func:`require_memory` compares an estimate of the bytes a step holds at once with the memory this
  process may use (:func:`memory_limit`: ``MemAvailable`` of ``/proc/meminfo``, or the environment variable
  ``SYMCORR_MEMORY_LIMIT`` such as ``4G``; half of it is the budget, the rest stays for Python, SymPy and
  the caller);
* :func:`check_correlator_order` bounds exact symbolic correlators: their rules enumerate the set
  partitions of the n slots (Bell numbers 1, 2, 5, 15, 52, 203, 877, 4140, 21147, 115975 at n = 10),
  so orders above :data:`MAX_SYMBOLIC_ORDER` are refused;
* :func:`check_test_budget` refuses statistical tests whose ensemble is too small for their standard
  errors to mean anything: the paired z-score is compared with a normal distribution, which needs at
  least :data:`MIN_TEST_NETWORKS` networks (with one network the sample variance does not exist and every
  difference would look infinitely significant).
"""

from __future__ import annotations

import math
import os
import re

from .errors import SpecError

__all__ = ["memory_limit", "require_memory", "format_bytes", "check_correlator_order", "check_test_budget",
           "MIN_TEST_NETWORKS", "MAX_SYMBOLIC_ORDER", "MAX_MONTE_CARLO_ORDER"]

#: the smallest ensemble a z-test accepts (the normal approximation of a mean of paired differences)
MIN_TEST_NETWORKS = 100
#: exact symbolic correlators enumerate set partitions of the slots: Bell(12) = 4,213,597 is the limit
MAX_SYMBOLIC_ORDER = 12
#: Monte Carlo correlators of higher order have standard errors that no affordable ensemble controls
MAX_MONTE_CARLO_ORDER = 12
_FALLBACK_MEMORY = 8 * 2 ** 30


def _parse_bytes(text: str) -> int | None:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?\s*", text)
    if not m:
        return None
    scale = {"": 1, "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def memory_limit() -> int:
    """Bytes this process may hold at once for one step of work (half of what is available)."""
    env = os.environ.get("SYMCORR_MEMORY_LIMIT")
    if env:
        value = _parse_bytes(env)
        if value is None or value <= 0:
            raise SpecError(f"SYMCORR_MEMORY_LIMIT must be a size such as 4G or 512M, got {env!r}",
                            "SYMCORR_MEMORY_LIMIT")
        return value
    available = _FALLBACK_MEMORY
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    return available // 2


def format_bytes(n: float) -> str:
    for unit, scale in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def require_memory(nbytes: float, what: str, advice: str, where: str) -> None:
    """Refuse when ``what`` needs more than :func:`memory_limit` bytes (``advice``: how to need less)."""
    limit = memory_limit()
    if nbytes > limit:
        raise SpecError(f"{what} needs about {format_bytes(nbytes)} at once, more than the {format_bytes(limit)} "
                        f"this process may use; {advice}", where)


def check_correlator_order(n, where: str = "n", *, limit: int = MAX_SYMBOLIC_ORDER) -> int:
    """A correlator order ``n`` (1 <= n <= ``limit``) with the reason when it is refused."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecError(f"a correlator order must be a positive integer, got {n!r}", where)
    if n > limit:
        raise SpecError(f"order {n} is above the limit {limit}: the exact rules enumerate the set partitions of "
                        f"the {n} slots (Bell({n}) = {_bell(n):.3g} of them); use order <= {limit}", where)
    return n


def check_test_budget(networks: int, where: str = "networks") -> int:
    """The ensemble size of a statistical test: at least :data:`MIN_TEST_NETWORKS` networks."""
    if isinstance(networks, bool) or not isinstance(networks, int) or networks < 1:
        raise SpecError(f"must be a positive integer, got {networks!r}", where)
    if networks < MIN_TEST_NETWORKS:
        raise SpecError(f"{networks} networks are too few for a statistical test: its z-scores compare paired "
                        f"differences with their standard error, which needs at least {MIN_TEST_NETWORKS} "
                        f"networks to be meaningful", where)
    return networks


def _bell(n: int) -> float:
    row = [1]
    for _ in range(n):
        nxt = [row[-1]]
        for v in row:
            nxt.append(nxt[-1] + v)
        row = nxt
    return float(row[0])


def ensemble_bytes(per_network: int, chunk: int, itemsize: int) -> int:
    """Bytes of one chunk of sampled parameters (the largest array a Monte Carlo step holds)."""
    return int(per_network) * int(chunk) * int(itemsize)


def entries_count(slots: int, order: int) -> int:
    """Distinct entries (multisets of ``order`` slots out of ``slots``) of a correlator tensor."""
    return math.comb(slots + order - 1, order)
