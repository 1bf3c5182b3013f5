"""A controllable clock for the limiter: time moves only when a test says so."""

from dataclasses import dataclass

START_US = 1_795_696_800_000_000  # a whole second, so Reset arithmetic is easy to read


@dataclass
class FakeClock:
    now_us: int = START_US

    def __call__(self) -> int:
        return self.now_us

    def advance(self, seconds: float) -> None:
        self.now_us += round(seconds * 1_000_000)
