"""Run the benchmark above everything else on the machine: a niceness of -20 for the harness and every process it
starts (servers, wrk, the component benchmarks), so a ratio measures our code, not the scheduler.

Why (issue 24): on the shared two-core machine, with other test suites running, the 1-minute load average is often
10 to 24. Linux's scheduler then gives a process that keeps up with its load (it sleeps between requests) a head
start at every wake-up, and one that falls behind only its fair share of the core. The bare reference keeps up; the
API server (more CPU per request) falls behind. With four busy loops on the servers' core, `release_get` measured
0.13 to 0.27 of its reference while its CPU-per-request ratio in the same rounds was 0.6 to 0.7; with both servers
and `wrk` at niceness -10 the same setup measured 0.63 to 0.73 (docs/benchmarks.md, "Priority"). At -20 the other
processes get about 1 % of a core against each measured one while a measurement runs, which is the point.

The niceness is inherited by every process started afterwards (Linux keeps it per thread; the harness starts its
processes from its main thread). Raising it needs root or CAP_SYS_NICE; without, the run goes on at the normal
priority and the report says so (`priority` in the JSON).
"""

import os

NICENESS = -20


def raise_priority(niceness: int = NICENESS) -> dict[str, object]:
    """Set this thread's niceness (inherited by the processes it starts); what the report records."""
    if os.environ.get("OG_BENCH_NICENESS") is not None:
        niceness = int(os.environ["OG_BENCH_NICENESS"])
    before = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness >= before:
        return {"niceness": before, "raised": False, "why": "already at or above the requested priority"}
    try:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    except PermissionError:
        return {"niceness": before, "raised": False, "why": "not permitted (needs root or CAP_SYS_NICE)"}
    return {"niceness": os.getpriority(os.PRIO_PROCESS, 0), "raised": True}
