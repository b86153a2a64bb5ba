"""Settings of where newsletter keeps its data: the data directory and the database."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

#: Database backends newsletter supports (and tests): SQLAlchemy backend names.
SUPPORTED_DATABASES = ("sqlite", "postgresql")


class StorageSettings(BaseModel):
    """``NEWSLETTER_DATA_DIR`` (SQLite file, outbox, generated keys) and
    ``NEWSLETTER_DATABASE_URL`` (an SQLAlchemy URL of a supported backend whose driver is
    installed)."""

    data_dir: Path = Field(Path("var"), description="Directory for the SQLite file, outbox, keys.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/newsletter.db"
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = make_url(value)
            if url.drivername in ("postgresql", "postgres"):
                url = url.set(drivername="postgresql+psycopg")
            backend = url.get_backend_name()
            if backend not in SUPPORTED_DATABASES:  # only what is tested
                raise ValueError(
                    f"unsupported database {backend!r}: newsletter runs on "
                    f"{' or '.join(SUPPORTED_DATABASES)} (e.g. postgresql://user:password@host/db)"
                )
            url.get_dialect().import_dbapi()  # the driver itself, not only SQLAlchemy's dialect
        except (NoSuchModuleError, ImportError) as exc:
            raise ValueError(
                f"no driver for {value.split(':', 1)[0]!r} is installed ({exc})"
            ) from None
        except ArgumentError:
            raise ValueError(
                f"not a database URL: {value!r} (e.g. postgresql://user:password@host/db)"
            ) from None
        return value
