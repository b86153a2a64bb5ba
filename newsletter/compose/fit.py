"""Fit stories to the reading budget: a 0/1 knapsack on reading time.

Values are scores, weights are reading seconds (in tenths, so rounding never lets a plan
exceed the budget by more than the rounding of its items, which is then checked exactly).
Forced items (the editor's pins) are taken first. A category may take at most a share of the
budget; that cap is lifted for a second pass only if the first left the budget under-filled
and the only remaining candidates are in capped categories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SCALE = 10  # tenths of a second


@dataclass(frozen=True)
class Option:
    """A story to fit: ``key`` identifies it, ``seconds`` is its reading time, ``value`` its
    score, ``group`` its category (for the share cap), ``forced`` an editor's pin."""

    key: int
    seconds: float
    value: float
    group: str
    forced: bool = False


def knapsack(options: Sequence[Option], capacity: float) -> list[int]:
    """Indices of ``options`` maximising total value within ``capacity`` seconds."""
    cap = int(capacity * SCALE)
    if cap <= 0 or not options:
        return []
    best = [0.0] * (cap + 1)
    keep: list[bytearray] = []
    for option in options:
        weight = max(1, round(option.seconds * SCALE))
        row = bytearray(cap + 1)
        if weight <= cap:
            value = option.value + 1e-9  # an item of value 0 still beats empty space
            for c in range(cap, weight - 1, -1):
                candidate = best[c - weight] + value
                if candidate > best[c]:
                    best[c] = candidate
                    row[c] = 1
        keep.append(row)
    chosen: list[int] = []
    c = cap
    for index in range(len(options) - 1, -1, -1):
        if keep[index][c]:
            chosen.append(index)
            c -= max(1, round(options[index].seconds * SCALE))
    return sorted(chosen)


def fit(
    options: Sequence[Option], budget: float, max_share: float, pool_limit: int = 120
) -> list[int]:
    """Indices of the options to publish within ``budget`` seconds.

    Forced options come first (in order, while they fit), then the best option of each
    category not yet represented (while they fit). Then, per category, only the best
    options within ``max_share`` of the budget compete, and only the ``pool_limit`` best
    overall, which bounds the knapsack's work whatever the number of candidates.
    """
    chosen: list[int] = []
    used = 0.0
    per_group: dict[str, float] = {}
    for index, option in enumerate(options):
        if option.forced and used + option.seconds <= budget:
            chosen.append(index)
            used += option.seconds
            per_group[option.group] = per_group.get(option.group, 0.0) + option.seconds
    ranked = sorted(
        (i for i, o in enumerate(options) if not o.forced),
        key=lambda i: (-options[i].value, options[i].key),
    )
    # Every category with candidates is represented when the budget allows: its best story
    # goes in before the knapsack shares out the rest.
    for index in ranked:
        option = options[index]
        if option.group in per_group or used + option.seconds > budget:
            continue
        chosen.append(index)
        used += option.seconds
        per_group[option.group] = option.seconds
    for capped in (True, False):
        pool: list[int] = []
        share: dict[str, float] = dict(per_group)
        for index in ranked:
            if index in chosen:
                continue
            option = options[index]
            if capped:
                if share.get(option.group, 0.0) + option.seconds > max_share * budget:
                    continue
                share[option.group] = share.get(option.group, 0.0) + option.seconds
            pool.append(index)
            if len(pool) >= pool_limit:
                break
        picked = knapsack([options[i] for i in pool], budget - used)
        for position in picked:
            index = pool[position]
            chosen.append(index)
            used += options[index].seconds
            per_group[options[index].group] = (
                per_group.get(options[index].group, 0.0) + options[index].seconds
            )
        if not capped or used >= 0.9 * budget:
            break
    return chosen
