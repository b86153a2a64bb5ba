"""Settings of the editors' morning: who the editors are, when the draft is composed, the
approval an edition may wait for, the scheduler's grace and pace, and editors' sessions."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode


class EditorSettings(BaseModel):
    """``NEWSLETTER_EDITORS`` (address -> Argon2 hash or None), minutes before ``send_time``
    the draft is composed, whether an edition waits for approval and the minutes before an
    alert, the minutes a late send may still start, sending by each reader's time zone, the
    scheduler's check interval (seconds) and an editor's session limits (idle minutes, hours
    since sign-in)."""

    editors: Annotated[dict[str, str | None], NoDecode] = Field(
        default_factory=dict,
        description="The editors: draft notices and alerts go to each address; those with an "
        "Argon2id hash (`newsletter editor hash-password`) may also sign in to /editor. "
        "Addresses alone (comma-separated) or a JSON object address -> hash.",
    )
    editors_window_minutes: int = Field(
        60, ge=0, le=720, description="The draft is composed this long before send_time."
    )
    require_approval: bool = Field(
        False, description="Send only an edition an editor approved (Drafts.approve)."
    )
    approval_deadline_minutes: int = Field(
        30, ge=0, le=1440,
        description="Alert when nothing is approved this long after send_time.",
    )  # fmt: skip
    send_grace_minutes: int = Field(
        180, ge=1, le=1440,
        description="A send starting this late still happens; later, the day is skipped.",
    )  # fmt: skip
    timezone_waves: bool = Field(
        False, description="Send each reader the edition at send_time in their own time zone."
    )
    scheduler_check_seconds: float = Field(
        60, ge=0.5, le=3600,
        description="How often the scheduler looks for approvals, lifted holds, late sends.",
    )  # fmt: skip

    # --- editors' pages ------------------------------------------------------------------
    editor_idle_minutes: float = Field(
        60, ge=1, le=1440, description="An editor's session ends after this long unused."
    )
    editor_session_hours: float = Field(
        12, ge=1, le=720, description="An editor's session ends this long after sign-in."
    )

    @field_validator("editors", mode="before")
    @classmethod
    def _read_editors(cls, value: Any) -> Any:
        """``a@x, b@y`` (notices only) or a JSON object ``{"a@x": "$argon2id$..."}``; a
        TOML list or table likewise."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                try:
                    return json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"not a JSON object: {exc.msg}") from None
            value = [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(value, list):
            return {address: None for address in value}
        return value

    @field_validator("editors")
    @classmethod
    def _check_editors(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        editors: dict[str, str | None] = {}
        for address, hashed in value.items():
            key = address.strip().lower()
            if not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+", key):
                raise ValueError(f"expected addresses such as chef@example.ma, got {address!r}")
            if hashed is not None and not re.fullmatch(
                r"\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
                hashed.strip(),
            ):
                raise ValueError(
                    f"{address}: expected an Argon2 hash from `newsletter editor hash-password` "
                    "($argon2id$v=19$...), never the password itself"
                )
            editors[key] = hashed.strip() if hashed is not None else None
        return editors
