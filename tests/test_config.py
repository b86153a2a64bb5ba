"""Settings: defaults, TOML file, environment overrides, errors that name the setting."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest

from newsletter.config.settings import ConfigError, Settings, load_settings, unknown_variables
from tests.conftest import ROOT


def test_defaults_match_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY")
    settings = load_settings()
    assert settings.timezone == "Africa/Casablanca"
    assert settings.send_time == time(7, 0)
    assert settings.reading_minutes == 5
    assert settings.provider == "file"
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_outbox_dir == settings.data_dir / "outbox"
    assert settings.smtp_security == "none"


def test_environment_overrides_the_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "custom.toml"
    config.write_text(
        'timezone = "Europe/Paris"\nsend_time = "06:30"\nfrom = "A <a@example.org>"\n'
    )
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(config))
    settings = load_settings()
    assert settings.timezone == "Europe/Paris"
    assert settings.send_time == time(6, 30)
    assert settings.sender_address == "a@example.org"
    monkeypatch.setenv("NEWSLETTER_SEND_TIME", "08:15")
    monkeypatch.setenv("NEWSLETTER_FROM", "Le Brief <brief@example.ma>")
    settings = load_settings()
    assert settings.send_time == time(8, 15)
    assert settings.sender_domain == "example.ma"


def test_default_config_path_is_read(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "newsletter.toml").write_text("reading_minutes = 7\n")
    assert load_settings().reading_minutes == 7


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("NEWSLETTER_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("NEWSLETTER_SEND_TIME", "25:00", "HH:MM"),
        ("NEWSLETTER_READING_MINUTES", "0", "greater than 0"),
        ("NEWSLETTER_BASE_URL", "example.ma", "absolute http"),
        ("NEWSLETTER_FROM", "not an address", "address"),
        ("NEWSLETTER_PROVIDER", "pigeon", "file"),
        ("NEWSLETTER_SMTP_SECURITY", "tls", "starttls"),
        ("NEWSLETTER_SMTP_PORT", "70000", "65535"),
        ("NEWSLETTER_DATABASE_URL", "notaurl", "not a database URL"),
        ("NEWSLETTER_DATABASE_URL", "foo://bar", "unsupported database 'foo'"),
        ("NEWSLETTER_DATABASE_URL", "mysql://x", "runs on sqlite or postgresql"),
        ("NEWSLETTER_DATABASE_URL", "postgresql+asyncpg://x/y", "no driver"),
        ("NEWSLETTER_FROM", "Evil <a@b.c>, other@x.y", "expected one address"),
        ("NEWSLETTER_FROM", "Doe, Jane <jane@example.org>", "quote a name"),
        ("NEWSLETTER_LANGUAGE", "de", "fr and en"),
        ("NEWSLETTER_LIST_ID", "bad id <x>", "dotted name"),
        ("NEWSLETTER_TITLE", "Le\nBrief", "one line"),
    ],
)
def test_a_wrong_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert variable in str(error.value)
    assert expected in str(error.value)


def test_missing_explicit_config_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSLETTER_CONFIG", "/nonexistent/newsletter.toml")
    with pytest.raises(ConfigError, match="NEWSLETTER_CONFIG: no such file"):
        load_settings()
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings()


def test_mistyped_variables_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_TIMEZON", "Europe/Paris")
    monkeypatch.setenv("NEWSLETTER_FROM", "A <a@example.org>")
    assert unknown_variables() == ["NEWSLETTER_TIMEZON"]


def test_unknown_key_and_broken_toml_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("timezome = 'Africa/Casablanca'\n")
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(config))
    with pytest.raises(ConfigError, match=r"c\.toml: unknown setting 'timezome'"):
        load_settings()
    config.write_text("timezone = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_secret_key_is_created_once_when_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY")
    first = load_settings().secret_keys
    second = load_settings().secret_keys
    assert first == second and len(first[0]) >= 32
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="NEWSLETTER_SECRET_KEY: must be at least 16"):
        load_settings()


def test_shipped_config_file_lists_every_setting_with_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """config/newsletter.toml documents every setting; uncommented, it must load and equal
    the defaults (so the file cannot drift from the code)."""
    shipped = (ROOT / "config" / "newsletter.toml").read_text(encoding="utf-8")
    keys = set(re.findall(r"^#\?? ?([a-z0-9_]+) = ", shipped, flags=re.M))
    fields = {("from" if name == "sender" else name) for name in Settings.model_fields}
    assert fields == keys
    uncommented = re.sub(r"^# ?([a-z0-9_]+ = )", r"\1", shipped, flags=re.M)
    path = Path("all.toml")
    path.write_text(uncommented, encoding="utf-8")
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(path))
    monkeypatch.delenv("NEWSLETTER_DATA_DIR")
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY")
    from_file = load_settings()
    monkeypatch.delenv("NEWSLETTER_CONFIG")
    defaults = load_settings()
    assert from_file.model_dump() == defaults.model_dump()


def test_editors_are_addresses_alone_or_addresses_with_a_password_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One setting for both uses: notices go to every editor, sign-in needs a hash."""
    from newsletter.web.passwords import hash_password

    monkeypatch.setenv("NEWSLETTER_EDITORS", "Chef@Example.MA, redaction@example.ma")
    assert load_settings().editors == {"chef@example.ma": None, "redaction@example.ma": None}
    hashed = hash_password("a long enough password")
    monkeypatch.setenv("NEWSLETTER_EDITORS", f'{{"chef@example.ma": "{hashed}"}}')
    assert load_settings().editors == {"chef@example.ma": hashed}
    monkeypatch.setenv("NEWSLETTER_EDITORS", '{"chef@example.ma": "hunter2"}')
    with pytest.raises(ConfigError, match=r"NEWSLETTER_EDITORS: .*Argon2 hash"):
        load_settings()
    monkeypatch.setenv("NEWSLETTER_EDITORS", '{"chef@example.ma": ')
    with pytest.raises(ConfigError, match=r"NEWSLETTER_EDITORS: .*JSON"):
        load_settings()
    monkeypatch.setenv("NEWSLETTER_EDITORS", "not-an-address")
    with pytest.raises(ConfigError, match="NEWSLETTER_EDITORS"):
        load_settings()


@pytest.mark.parametrize(
    "zone", ["localtime", "posixrules", "Factory", "right/UTC", "posix/Europe/Paris"]
)
def test_the_time_zone_is_an_iana_name_not_a_pseudo_zone(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zone directory's pseudo-zones and copies are not time zones (tzdata's list)."""
    monkeypatch.setenv("NEWSLETTER_TIMEZONE", zone)
    with pytest.raises(ConfigError, match=r"NEWSLETTER_TIMEZONE.*unknown time zone"):
        load_settings()
    for name in ("UTC", "Europe/Paris", "America/Argentina/Buenos_Aires"):
        monkeypatch.setenv("NEWSLETTER_TIMEZONE", name)
        assert load_settings().timezone == name
