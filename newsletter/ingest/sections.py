"""A feed's categories mapped to the newsletter's sections: the ``[section_aliases]`` of the
configuration say which feed categories a section of ours stands for (France 24's
"Europe", "Amériques" and "Asie-Pacifique" are our ``monde``), and a source's own
``section`` takes the entries that have no category at all."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from newsletter.store.articles import ArticleRecord
from newsletter.textutil import slugify


def alias_table(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{"monde": ["Europe", "Asie-Pacifique"]}`` -> ``{"europe": "monde",
    "asie-pacifique": "monde"}``: a category's slug to our section's slug. Each section
    stands for itself too."""
    table: dict[str, str] = {}
    for section, labels in aliases.items():
        target = slugify(section)
        if not target:
            continue
        table.setdefault(target, target)
        for label in labels:
            slug = slugify(label)
            if slug:
                table[slug] = target
    return table


def with_section(
    record: ArticleRecord, table: Mapping[str, str], fallback: str | None
) -> ArticleRecord:
    """``record`` with its ``category`` as our section: the first of its categories (tags,
    in the feed's order) that an alias names; else its own category unchanged; else
    ``fallback`` (the source's section) when it has none. The feed's own words stay in
    ``tags``."""
    for tag in record.tags:
        section = table.get(slugify(tag))
        if section:
            return replace(record, category=section)
    if record.category is None and fallback:
        return replace(record, category=fallback)
    return record
