"""The benchmark's round logic (issue 24) with fake measurements: schedule, pairing, medians, spread, `unstable`.

Nothing is timed or measured here: the figures are made up so that each test knows the answer. The harness's real
run is test_load_harness.py (slow tier).
"""

import json

import pytest

from benchmarks import load, rounds
from benchmarks.load import Backend, Round


def test_each_pair_is_measured_back_to_back_every_round_and_the_order_alternates() -> None:
    steps = rounds.schedule([("release_get", "bare"), ("persons_get", "bare")], 4)
    by_round = [[(s.name, s.pair) for s in steps if s.round == n] for n in range(4)]
    first = [("bare", "release_get"), ("release_get", "release_get"), ("bare", "persons_get")]
    first.append(("persons_get", "persons_get"))
    second = [("release_get", "release_get"), ("bare", "release_get"), ("persons_get", "persons_get")]
    second.append(("bare", "persons_get"))
    # A B then B A: over two rounds each side has gone first once, so a drift inside a pair cancels.
    assert by_round == [first, second, first, second]


def test_a_twin_selected_alone_is_measured_once_per_round_and_zero_rounds_is_refused() -> None:
    assert [(s.round, s.name) for s in rounds.schedule([("bare", "bare")], 3)] == [
        (0, "bare"),
        (1, "bare"),
        (2, "bare"),
    ]
    with pytest.raises(ValueError, match="round"):
        rounds.schedule([("a", "b")], 0)


def test_every_selected_scenario_is_paired_with_the_reference_it_names() -> None:
    pairs = load.pairs_for({"release_get", "smartlink_view", "earnings_summary", "release_list", "balance"})
    assert pairs == [
        ("release_get", "bare_reference"),
        ("release_list", "release_list_bare"),
        ("smartlink_view", "bare_reference_smartlink"),
        ("earnings_summary", "earnings_summary_bare"),
        ("balance", "balance_bare"),
    ]
    # A twin that some selected scenario needs is measured beside it, not on its own as well.
    assert load.pairs_for({"bare_reference", "release_get"}) == [("release_get", "bare_reference")]
    assert load.pairs_for({"bare_reference"}) == [("bare_reference", "bare_reference")]


def test_spread_gives_min_max_quartiles_and_widths_relative_to_the_median() -> None:
    found = rounds.spread([1.0, 0.8, 1.2, 0.9, 1.1])
    assert found == {
        "min": 0.8,
        "max": 1.2,
        "q1": 0.9,
        "q3": 1.1,
        "range_relative": pytest.approx(0.4),
        "iqr_relative": pytest.approx(0.2),
    }
    assert rounds.spread([0.7])["iqr_relative"] == 0.0


def test_a_spread_wider_than_the_bound_is_unstable_and_one_outlier_round_is_not() -> None:
    steady = rounds.summary([1.0, 1.02, 0.98, 1.01, 0.6], bound=0.2)  # one round hit by other load
    assert steady["ratio_median"] == 1.0
    assert steady["unstable"] is False
    assert steady["ratio_spread"]["min"] == 0.6
    wide = rounds.summary([0.6, 0.8, 1.0, 1.2, 1.4], bound=0.2)
    assert wide["ratio_median"] == 1.0
    assert wide["unstable"] is True
    assert rounds.summary([0.5], bound=0.2)["unstable"] is False  # a single round has no spread to judge


def test_paired_divides_within_each_round_and_never_by_zero() -> None:
    scenario = [(0, 90.0), (1, 120.0), (2, 50.0)]
    reference = [(0, 100.0), (1, 100.0), (1, 140.0), (2, 0.0), (3, 10.0)]
    assert rounds.paired(scenario, reference) == [(0, 0.9), (1, 1.0), (2, 0.0)]  # round 1: mean of two references
    assert rounds.paired([(0, 2.0)], [(0, 1.0)], invert=True) == [(0, 0.5)]


def _round(number: int, pair: str, rps: float, *, cpu_ms: float = 1.0, p99: float = 10.0, load_: float = 2.0) -> Round:
    return Round(
        round=number,
        pair=pair,
        position=0,
        requests_per_s=rps,
        p50_ms=p99 / 2,
        p90_ms=p99 * 0.8,
        p99_ms=p99,
        max_ms=p99 * 2,
        errors=0,
        requests=int(rps * 3),
        statuses={200: int(rps * 3)},
        load_average=load_,
        cpu_ms_per_request=cpu_ms,
        cpu_share=0.9,
        server_rss_mb=150.0,
    )


SCENARIO = next(s for s in load.SCENARIOS if s.name == "release_get")
REFERENCE = next(s for s in load.SCENARIOS if s.name == "bare_reference")


def test_a_scenarios_ratio_is_the_median_of_its_rounds_against_the_reference_beside_it() -> None:
    # The machine slows down by half over the run; each round's ratio does not see it, a one-shot ratio would.
    reference = [
        _round(0, "release_get", 1000, cpu_ms=1.0, p99=10, load_=2),
        _round(0, "persons_get", 400, load_=5),  # measured beside another scenario: not this one's
        _round(1, "release_get", 800, cpu_ms=1.0, p99=20, load_=4),
        _round(2, "release_get", 500, cpu_ms=1.0, p99=40, load_=6),
    ]
    scenario = [
        _round(0, "release_get", 900, cpu_ms=1.25, p99=20, load_=2),
        _round(1, "release_get", 800, cpu_ms=1.0, p99=20, load_=4),
        _round(2, "release_get", 500, cpu_ms=1.0, p99=20, load_=6),
    ]
    measured = load.aggregate(SCENARIO, scenario, reference, "SQLite", seconds=3, connections=16, bound=0.2)
    assert [r.ratio for r in measured.rounds] == [0.9, 1.0, 1.0]
    assert measured.ratio == measured.ratio_median == 1.0
    assert measured.ratio_spread["min"] == 0.9
    assert measured.unstable is False
    assert [r.cpu_ratio for r in measured.rounds] == [0.8, 1.0, 1.0]
    assert measured.cpu_ratio == 1.0
    assert [r.p99_ratio for r in measured.rounds] == [2.0, 1.0, 0.5]
    assert measured.requests_per_s == 800  # the rounds' median
    assert measured.requests == sum(r.requests for r in scenario)
    assert measured.statuses == {200: measured.requests}
    assert measured.load_average == 4
    assert measured.load_average_range == [2, 6]
    assert measured.reference == "bare_reference"
    # One-shot, the first reference against the last scenario: 0.5 — the drift the rounds take out.
    assert scenario[-1].requests_per_s / reference[0].requests_per_s == 0.5


def test_rounds_that_disagree_make_the_scenario_unstable_and_the_target_is_not_judged() -> None:
    reference = [_round(n, "release_get", 1000) for n in range(5)]
    scenario = [_round(n, "release_get", rps) for n, rps in enumerate([300, 450, 600, 750, 900])]
    measured = load.aggregate(SCENARIO, scenario, reference, "SQLite", seconds=3, connections=16, bound=0.2)
    bare = load.aggregate(REFERENCE, reference, reference, "SQLite", seconds=3, connections=16, bound=0.2)
    assert measured.unstable is True
    assert measured.ratio == 0.6
    assert bare.ratio == 1.0
    assert bare.unstable is False
    report = load.markdown(
        [bare, measured], {"rounds": 5, "round_warmup": 1, "spread_bound": 0.2}, Backend("SQLite", "")
    )
    assert "| 0.60 | 0.30-0.90 (IQR ±25 %) | **unstable** |" in report
    assert "Target release_get ≥0.50 of bare: 0.60 (unstable" in report
    assert "- release_get: 0.30 (CPU 0.90, load 2.0) · 0.45" in report
    # Stable and above the target: judged as usual.
    steady = load.aggregate(
        SCENARIO, [_round(n, "release_get", 600) for n in range(5)], reference, "SQLite", seconds=3, connections=16
    )
    assert "Target release_get ≥0.50 of bare: 0.60 (met;" in "\n".join(load.targets([bare, steady]))


def test_a_components_result_line_is_lifted_out_of_its_output() -> None:
    found = rounds.comparison(
        "sdk", "raw httpx", [1.1, 1.0, 1.2], ratio_of="SDK time / raw time", rounds=[{"round": 0}], calls=10
    )
    output = f"| a | b |\n| --- | --- |\n{rounds.result_line(found)}\nTarget met"
    results, rest = rounds.parse_results(output)
    assert results == [json.loads(json.dumps(found))]
    assert results[0]["ratio"] == results[0]["ratio_median"] == 1.1
    assert results[0]["calls"] == 10
    assert rest == "| a | b |\n| --- | --- |\nTarget met"


def test_a_components_metrics_lines_become_one_document_and_leave_the_markdown_clean() -> None:
    output = "\n".join(
        [
            "| a | b |",
            rounds.metrics_line({"deliveries_per_s": 250.5, "floor_per_s": 400.0}),
            "Target met",
            rounds.metrics_line({"first_attempt_p50_ms": 7.5, "floor_per_s": 410.0}),
        ]
    )
    results, metrics, rest = rounds.parse_output(output)
    assert results == []
    # Several lines merge; a figure printed again is the later one.
    assert metrics == {"deliveries_per_s": 250.5, "floor_per_s": 410.0, "first_attempt_p50_ms": 7.5}
    assert rest == "| a | b |\nTarget met"


def _measured(name: str, rps: list[float], *, p99: float = 10.0) -> load.Measurement:
    scenario = next(s for s in load.SCENARIOS if s.name == name)
    reference = [_round(n, name, 1000) for n in range(len(rps))]
    figures = [_round(n, name, value, p99=p99) for n, value in enumerate(rps)]
    return load.aggregate(scenario, figures, reference, "SQLite", seconds=3, connections=16, bound=0.2)


def test_issue_22s_targets_judge_reads_writes_and_p99_against_each_twin() -> None:
    steady_read = _measured("release_list", [500] * 5)  # 0.50 of its twin: below the reads' 0.8
    good_read = _measured("balance", [850] * 5, p99=8.0)
    steady_write = _measured("track_create", [650] * 5, p99=25.0)  # 0.65: above the writes' 0.6, p99 2.5x the twin's
    shaky_write = _measured("release_create", [300, 450, 600, 750, 900])
    lines = load.wave_two([steady_read, good_read, steady_write, shaky_write])
    assert "- Target (issue 22) release_list ≥0.80 of release_list_bare: 0.50 (NOT met; CPU ratio 1.00)." in lines
    assert "- Target (issue 22) balance ≥0.80 of balance_bare: 0.85 (met; CPU ratio 1.00)." in lines
    assert "- Target (issue 22) balance p99 ≤ its twin's (p99 ratio ≤1): 0.80 (met; p99 8.0 ms)." in lines
    assert "- Target (issue 22) track_create ≥0.60 of track_create_bare: 0.65 (met; CPU ratio 1.00)." in lines
    assert "- Target (issue 22) track_create p99 ≤ its twin's (p99 ratio ≤1): 2.50 (NOT met; p99 25.0 ms)." in lines
    shaky = [line for line in lines if line.startswith("- Target (issue 22) release_create")]
    assert len(shaky) == 2
    assert all("unstable" in line and "not judged" in line for line in shaky)
    # In the report, after the first wave's lines.
    report = load.markdown(
        [steady_read, good_read], {"rounds": 5, "round_warmup": 1, "spread_bound": 0.2}, Backend("SQLite", "")
    )
    assert "| release_list — GET /api/v1/releases (a page of 20) | release_list_bare |" in report
    assert "release_list ≥0.80 of release_list_bare: 0.50 (NOT met" in report


def test_the_rss_target_judges_the_servers_peak_as_well_as_its_rss_after_the_run() -> None:
    reference = [_round(n, "release_get", 1000) for n in range(3)]
    measured = load.aggregate(SCENARIO, reference, reference, "SQLite", seconds=3, connections=16)  # RSS 150 MB
    # Within the target after the run, but the process went over it on the way (start-up, a burst): not met.
    assert load.rss_target([measured], 226.0) == (
        "- Target server RSS ≤200 MB per worker: 150 MB after the run, peak 226 MB (NOT met)."
    )
    assert load.rss_target([measured], 170.0).endswith("150 MB after the run, peak 170 MB (met).")
    report = load.markdown(
        [measured],
        {"rounds": 3, "round_warmup": 1, "spread_bound": 0.2, "app_rss_mb": 150.0, "app_peak_rss_mb": 226.0},
        Backend("SQLite", ""),
    )
    assert "peak 226 MB (NOT met)" in report
