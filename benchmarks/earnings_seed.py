"""Seeds a year of earnings lines for the load benchmark's account (the `earnings_summary` scenario).

    OG_DATABASE_URL=… python -m benchmarks.earnings_seed ACCOUNT_ID [LINES_PER_MONTH]

One production release with four tracks and, per month, a report of lines over stores and territories, imported
through the real importer (dedupe, FX, split allocation), as the DSP feed would.
"""

import random
import sys
from datetime import date, timedelta
from decimal import Decimal

from server import clock
from server.config import Settings
from server.db import engine as db
from server.db.engine import session_scope
from server.db.models.releases import Release
from server.db.models.tracks import Track
from server.ids import new_id
from server.services import earnings

STORES = ["spotify", "apple_music", "amazon_music", "deezer", "youtube_music", "tidal"]
TERRITORIES = ["DE", "US", "GB", "FR", "SE", "NL", "JP", "BR", "IT", "ES", "PL", "CA"]


def seed(account_id: str, lines_per_month: int = 250) -> int:
    rng = random.Random(7)  # reproducible load data
    with session_scope() as session:
        release = Release(
            id=new_id("rel"), account_id=account_id, environment="production", title="Bench Earnings", upc=None
        )
        session.add(release)
        session.flush()
        tracks = [
            Track(
                id=new_id("trk"),
                account_id=account_id,
                environment="production",
                release_id=release.id,
                title=f"Bench {n}",
                track_number=n + 1,
            )
            for n in range(4)
        ]
        session.add_all(tracks)
    today = clock.now().date()  # the server's now, as the balance's settlement reads it
    total = 0
    for back in range(12, 0, -1):
        year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
        start = date(year, month + 1, 1)
        end = date(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(days=1)
        lines = []
        for n in range(lines_per_month):
            track = tracks[n % len(tracks)]
            net = Decimal(rng.randint(-50, 5000)) / Decimal(997)
            lines.append(
                earnings.MatchedLine(
                    earnings.ReportLine(
                        line_id=f"{start:%Y-%m}-{n}",
                        store=STORES[n % len(STORES)],
                        territory=TERRITORIES[rng.randrange(len(TERRITORIES))],
                        sale_period_start=start,
                        sale_period_end=end,
                        isrc=None,
                        upc=None,
                        usage_type="stream",
                        units=rng.randint(1, 20000),
                        gross=(net * Decimal("1.18")).quantize(earnings.QUANTUM),
                        net=net.quantize(earnings.QUANTUM),
                        currency="EUR",
                        fx_rate=Decimal(1),
                    ),
                    release.id,
                    track.id,
                )
            )
        with session_scope() as session:
            result = earnings.import_for_tenant(
                session,
                account_id,
                "production",
                sender="bench",
                report_id=f"bench-{start:%Y-%m}",
                reported_at=clock.now(),
                lines=lines,
                emit_event=False,
            )
            total += result.imported
    return total


if __name__ == "__main__":
    db.configure(Settings.from_env())
    print(seed(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 250))
