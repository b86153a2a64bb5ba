"""Text of an uploaded CSV file: the encodings spreadsheets really export.

Excel writes UTF-8 with a byte order mark, UTF-16 ("Unicode text", with a BOM) or, in
French and other Western locales, Windows-1252 ("CSV (separated by semicolons)"). Bytes
that are not UTF-8 and carry no BOM are read as Windows-1252 (a superset of the printable
Latin-1 range), with a warning: the addresses are ASCII anyway, and accented names come out
right for Western European languages.
"""

from __future__ import annotations

import codecs

#: Byte order marks recognised (Unicode 15, section 23.8), longest first.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class UndecodableText(ValueError):
    """The bytes announce an encoding (a BOM) but are not text in it."""


def decode_csv_bytes(data: bytes) -> tuple[str, str | None]:
    """``(text, warning)`` for the bytes of a CSV file.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are decoded silently; anything else
    is decoded as Windows-1252 (Latin-1 for the five bytes cp1252 leaves undefined) and
    ``warning`` says so. Raises :class:`UndecodableText` when a BOM announces UTF-8 or
    UTF-16 and the rest is not valid in it.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), None
            except UnicodeDecodeError as exc:
                name = "UTF-8" if encoding == "utf-8-sig" else "UTF-16"
                raise UndecodableText(
                    f"starts with a {name} byte order mark but byte {exc.start} is not {name}"
                ) from None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text, (
        "not UTF-8: read as Windows-1252 (Excel's Western European CSV); "
        "check that accented names look right"
    )
