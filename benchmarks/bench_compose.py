"""Compose time for 1,000, 10,000 and 100,000 candidate articles (``make bench``).

Candidates are synthetic but shaped like a news day: titles of 6-12 words drawn from a
Zipf-distributed vocabulary of 40,000 made-up words (so that common words are shared and
rare ones are not), leads of 20-60 words, 8 categories, publication times over 24 hours,
and about 5 % of articles told again by a second source with a reworded title.

Prints seconds per size (best of ``--repeat`` runs) and the growth ratio against
n log n between consecutive sizes (1.0 means exactly n log n; below is better).
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import time
from datetime import UTC, datetime, timedelta

from newsletter import words
from newsletter.compose.edition import Candidate, Policy, compose_plan

END = datetime(2026, 3, 25, 7, 0, tzinfo=UTC)
CATEGORIES = ["politique", "economie", "societe", "monde", "sport", "culture", "sante", "tech"]


def vocabulary(rng: random.Random, size: int = 40_000) -> list[str]:
    """Made-up words of 2-4 syllables."""
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(size)]


def candidates(n: int, seed: int = 1) -> list[Candidate]:
    """``n`` synthetic candidates (deterministic for a seed)."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))

    def text(count: int) -> str:  # Zipf's law, s = 1
        return " ".join(rng.choices(words, cum_weights=cumulative, k=count))

    out: list[Candidate] = []
    for index in range(n):
        if out and rng.random() < 0.05:  # the same story from another source
            original = rng.choice(out)
            title = original.title + " " + text(2)
        else:
            title = text(rng.randint(6, 12)).capitalize()
        out.append(
            Candidate(
                article_id=index + 1,
                url=f"https://news.example/{index}",
                url_key=f"{index:064d}",
                title=title,
                summary=text(rng.randint(20, 60)).capitalize() + ".",
                body="",
                category=rng.choice(CATEGORIES),
                language="fr",
                published_at=END - timedelta(minutes=rng.randint(1, 1440)),
                feed_position=rng.randint(0, 50),
                featured=rng.random() < 0.01,
                source_name=f"Source {rng.randint(1, 30)}",
            )
        )
    return out


def run(sizes: list[int], repeat: int) -> list[tuple[int, float, int]]:
    """(size, best seconds, items chosen) for each size."""
    policy = Policy(
        budget_seconds=300,
        sections=CATEGORIES[:6],
        language="fr",
        section_titles=words.section_titles("fr"),
    )
    results = []
    for size in sizes:
        pool = candidates(size)
        best = math.inf
        items = 0
        for _ in range(repeat):
            start = time.perf_counter()
            plan = compose_plan(pool, window_end=END, policy=policy)
            best = min(best, time.perf_counter() - start)
            items = len(plan.items)
        results.append((size, best, items))
    return results


def main() -> None:
    """Command-line entry: ``python -m benchmarks.bench_compose [--sizes ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'candidates':>10}  {'seconds':>8}  {'items':>5}  growth vs n log n")
    previous: tuple[int, float] | None = None
    for size, seconds, items in run(args.sizes, args.repeat):
        growth = ""
        if previous:
            expected = (size * math.log(size)) / (previous[0] * math.log(previous[0]))
            growth = f"{(seconds / previous[1]) / expected:.2f}"
        print(f"{size:>10}  {seconds:>8.3f}  {items:>5}  {growth}")
        previous = (size, seconds)


if __name__ == "__main__":
    main()
