"""Helpers shared by the benchmark scripts (run as ``python benchmarks/bench_*.py``)."""

import platform


def cpu_name() -> str:
    """The CPU model, for the header of a benchmark report."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
