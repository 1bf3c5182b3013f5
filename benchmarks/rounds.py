"""Interleaved rounds: how a scenario and its reference are scheduled, paired and summarised (issue 24).

A ratio taken between two measurements made minutes apart measures partly *when* each ran: on a shared machine the
load average moves from 2 to 6 within a run. So every scenario is measured in several short rounds, each round right
next to its reference, the order alternating (round 0: reference then scenario, round 1: scenario then reference,
…: A B B A A B …), and each round gives its own ratio. The report keeps the median of those ratios and their spread;
a scenario whose spread is wider than the bound is `unstable` rather than silently passing or failing.

Nothing here measures: the functions take figures from whoever measured (wrk runs, timed calls, CPU seconds), so the
logic is tested with fake measurements (tests/benchmarks/test_rounds.py). Components print their comparison as one
`BENCH_RESULT {json}` line (`result_line`), which the suite lifts into its JSON document, and its key figures as one
`BENCH_METRICS {json}` line (`metrics_line`), which become the component's `metrics` (issue 22: runs compared by a
program, not by parsing Markdown).
"""

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# The documented bound (docs/benchmarks.md): a comparison whose rounds' interquartile range is wider than this
# fraction of their median is `unstable`. 0.20 = the middle half of the rounds lies within ±10 % of the median.
SPREAD_BOUND = 0.20
RESULT_MARKER = "BENCH_RESULT "
METRICS_MARKER = "BENCH_METRICS "


@dataclass(frozen=True)
class Step:
    """One measurement of the schedule: `name` in round `round` (the reference's steps name the reference)."""

    round: int
    name: str
    pair: str  # the scenario this step belongs to (its own name for a reference measured with nothing to compare)


def schedule(pairs: Sequence[tuple[str, str]], rounds: int) -> list[Step]:
    """Each (scenario, reference) pair measured back to back in every round, the order alternating between rounds.

    Round 0 is R S for every pair, round 1 is S R, round 2 R S again — so over two rounds each side has gone first
    once (A B B A) and a drift within a pair's few seconds cancels in the median. A pair whose scenario is its own
    reference (a bare twin selected alone) is measured once per round.
    """
    if rounds < 1:
        raise ValueError("at least one round")
    steps = []
    for number in range(rounds):
        for scenario, reference in pairs:
            if scenario == reference:
                steps.append(Step(number, scenario, scenario))
                continue
            order = (reference, scenario) if number % 2 == 0 else (scenario, reference)
            steps += [Step(number, name, scenario) for name in order]
    return steps


def spread(values: Sequence[float]) -> dict[str, float]:
    """Min, max, quartiles and both widths relative to the median (0 when there is a single value)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    median = statistics.median(ordered)
    if len(ordered) > 1:
        q1, _q2, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    scale = abs(median) or 1.0
    return {
        "min": round(ordered[0], 4),
        "max": round(ordered[-1], 4),
        "q1": round(q1, 4),
        "q3": round(q3, 4),
        "range_relative": round((ordered[-1] - ordered[0]) / scale, 4),
        "iqr_relative": round((q3 - q1) / scale, 4),
    }


def summary(ratios: Sequence[float], bound: float = SPREAD_BOUND) -> dict[str, Any]:
    """`ratio_median`, `ratio_spread` and whether the rounds disagree by more than the bound (`unstable`)."""
    width = spread(ratios)
    return {
        "ratio_median": round(statistics.median(ratios), 4),
        "ratio_spread": width,
        "unstable": len(ratios) > 1 and width["iqr_relative"] > bound,
        "spread_bound": bound,
    }


def paired(
    scenario: Iterable[tuple[int, float]], reference: Iterable[tuple[int, float]], *, invert: bool = False
) -> list[tuple[int, float]]:
    """Per round, scenario / reference (reference / scenario with `invert`), for the rounds both were measured in.

    Several measurements of one side in a round (a reference shared by several scenarios is measured beside each,
    but this function is given only one pair's) are averaged. A zero denominator gives 0.0, never a division error.
    """

    def by_round(values: Iterable[tuple[int, float]]) -> dict[int, float]:
        grouped: dict[int, list[float]] = {}
        for number, value in values:
            grouped.setdefault(number, []).append(value)
        return {number: statistics.fmean(found) for number, found in grouped.items()}

    mine, theirs = by_round(scenario), by_round(reference)
    out = []
    for number in sorted(mine.keys() & theirs.keys()):
        top, bottom = (theirs[number], mine[number]) if invert else (mine[number], theirs[number])
        out.append((number, round(top / bottom, 4) if bottom else 0.0))
    return out


def comparison(
    name: str,
    reference: str,
    ratios: Sequence[float],
    *,
    ratio_of: str,
    rounds: Sequence[dict[str, Any]],
    bound: float = SPREAD_BOUND,
    **metrics: Any,
) -> dict[str, Any]:
    """A component's comparison against its floor, in the shape the suite collects (`components[].comparisons`)."""
    return {
        "name": name,
        "reference": reference,
        "ratio_of": ratio_of,  # what the ratio divides, so a reader knows whether lower or higher is better
        **summary(ratios, bound),
        "ratio": round(statistics.median(ratios), 4),
        "rounds": list(rounds),
        **metrics,
    }


def result_line(result: dict[str, Any]) -> str:
    return RESULT_MARKER + json.dumps(result, separators=(",", ":"))


def metrics_line(metrics: dict[str, Any]) -> str:
    """A component's key figures by name (`{"deliveries_per_s": 257.0, …}`), for the suite's `components[].metrics`."""
    return METRICS_MARKER + json.dumps(metrics, separators=(",", ":"))


def parse_results(output: str) -> tuple[list[dict[str, Any]], str]:
    """The `BENCH_RESULT` documents in a component's output, and the output without those lines."""
    found, _metrics, kept = parse_output(output)
    return found, kept


def parse_output(output: str) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """A component's output taken apart: its `BENCH_RESULT` comparisons, its `BENCH_METRICS` figures (merged, a
    later line winning), and the rest of the output (the Markdown a reader sees)."""
    found: list[dict[str, Any]] = []
    metrics: dict[str, Any] = {}
    kept = []
    for line in output.splitlines():
        if line.startswith(RESULT_MARKER):
            found.append(json.loads(line.removeprefix(RESULT_MARKER)))
        elif line.startswith(METRICS_MARKER):
            metrics.update(json.loads(line.removeprefix(METRICS_MARKER)))
        else:
            kept.append(line)
    return found, metrics, "\n".join(kept).strip()


def describe(spread_: dict[str, float]) -> str:
    """`0.95-1.07 (IQR ±4 %)`: the Markdown cell for a spread."""
    return f"{spread_['min']:.2f}-{spread_['max']:.2f} (IQR ±{spread_['iqr_relative'] * 50:.0f} %)"
