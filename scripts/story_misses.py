"""Print, for labelled days of tests/data/stories, the pairs the grouping misses and the pairs
it finds that the labels do not: ``python scripts/story_misses.py [DAY ...]``.

Missed pairs are shown per labelled story the grouping splits (the parts it makes of it), false
pairs per group that joins several labelled stories, so a templated series is a few lines."""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newsletter.compose.stories import group_stories
from tests.test_stories import DAYS, Day, labelled, measure


def parts(day: Day, members: list[int], key: dict[int, int]) -> list[list[int]]:
    """``members`` split by ``key`` (a group or a labelled story), largest part first."""
    split: dict[int, list[int]] = defaultdict(list)
    for i in members:
        split[key[i]].append(i)
    return sorted(split.values(), key=lambda part: (-len(part), part))


def show(day: Day, split: list[list[int]]) -> None:
    for part in split:
        more = f" (+{len(part) - 1} more)" if len(part) > 1 else ""
        print(f"     [{len(part)}] {day.docs[part[0]].title[:90]!r}{more}")


def main(days: list[str]) -> None:
    for name in days:
        day = labelled(name)
        groups = group_stories(day.docs)
        group_of = {i: k for k, g in enumerate(groups) for i in g}
        story_of = dict(enumerate(day.story))
        truth, p, r, f1 = measure(day, groups)
        stories: dict[int, list[int]] = defaultdict(list)
        for i, s in story_of.items():
            stories[s].append(i)
        print(
            f"== {name}: {len(day.docs)} articles, {len(stories)} stories, {len(groups)} "
            f"groups; {truth} labelled pairs, P {p:.2f} R {r:.2f} F1 {f1:.2f}"
        )
        for label, what, units, key in (
            ("missed", "labelled story split", list(stories.values()), group_of),
            ("false", "group joining stories", groups, story_of),
        ):
            split = [parts(day, members, key) for members in units]
            count = sum(len(a) * len(b) for s in split for a, b in itertools.combinations(s, 2))
            print(f"-- {label} pairs: {count}")
            for s in split:
                if len(s) > 1:
                    print(f"   {what}, {sum(map(len, s))} articles in {len(s)} parts:")
                    show(day, s)


if __name__ == "__main__":
    main(sys.argv[1:] or DAYS)
