"""``newsletter editor hash-password``: an editor's account for the /editor pages."""

from __future__ import annotations

import sys

import typer

from newsletter.cli.common import fail

editor_cli = typer.Typer(help="Editors' accounts for the /editor pages.", no_args_is_help=True)


@editor_cli.command("hash-password")
def editor_hash_password() -> None:
    """Print the Argon2id hash of a password for NEWSLETTER_EDITORS (or [editors] in the
    TOML file). The password is asked twice on a terminal, else read from the first line
    of standard input; it is never printed."""
    from newsletter.web.passwords import WeakPassword, hash_password

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        hashed = hash_password(password)
    except WeakPassword as exc:
        fail(str(exc), 2)
    typer.echo(hashed)
    typer.echo(
        'add it to the settings, e.g. NEWSLETTER_EDITORS=\'{"you@example.ma": "<hash>"}\'',
        err=True,
    )
