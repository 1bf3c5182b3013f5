"""QC findings as the API shows them (`QcFinding`), and the verdict they add up to."""

from typing import Any

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def finding(  # noqa: PLR0917 - mirrors the QcFinding fields in order
    code: str,
    severity: str,
    message: str,
    measured_value: float | str | None = None,
    threshold: float | str | None = None,
    unit: str | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "severity": severity,
        "message": message,
        "measured_value": measured_value,
        "threshold": threshold,
        "unit": unit,
    }


def ordered(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors first, then warnings, then measurements; stable otherwise."""
    return sorted(findings, key=lambda f: _SEVERITY_ORDER.get(f["severity"], 3))


def verdict(findings: list[dict[str, Any]]) -> str:
    return "failed" if any(f["severity"] == "error" for f in findings) else "passed"
