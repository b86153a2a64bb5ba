"""``newsletter api-token create|list|revoke``: the bearer tokens of the HTTP API (the CMS
push, ``POST /api/articles``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from newsletter.cli.common import fail, load_app

tokens_app = typer.Typer(help="Tokens of the HTTP API (the CMS push).", no_args_is_help=True)


@tokens_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="The token's name (the pushed articles' source).")],
    scopes: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="What the token may do (repeat it); default: every scope: articles:write, "
            "editions:read, editions:write, subscribers:read, subscribers:write, reports:read.",
        ),
    ] = None,
) -> None:
    """Create a token and print it alone on standard output, once: only its hash is kept.

    Exits 2 for a bad or taken name or an unknown scope.
    """
    from newsletter.store.tokens import SCOPES, TokenError, create_token

    application = load_app()
    try:
        token = create_token(application.sessions, name, tuple(scopes) if scopes else SCOPES)
    except TokenError as exc:
        fail(str(exc), 2)
    typer.echo(token)
    typer.echo(f"token {name} created: it is shown once, keep it now", err=True)


@tokens_app.command("list")
def token_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the tokens as JSON.")] = False,
) -> None:
    """List the tokens (name, scopes, created, last used, revoked); never the tokens."""
    from newsletter.store.tokens import list_tokens

    tokens = list_tokens(load_app().sessions)
    if as_json:
        typer.echo(json.dumps([token.as_dict() for token in tokens], indent=2))
        return
    for token in tokens:
        used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        state = (
            f"revoked {token.revoked_at.isoformat(timespec='seconds')}" if token.revoked_at else ""
        )
        typer.echo(
            f"{token.name}  {','.join(token.scopes)}  created "
            f"{token.created_at.isoformat(timespec='seconds')}  last used {used}  {state}".rstrip()
        )


@tokens_app.command("revoke")
def token_revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
) -> None:
    """Revoke a token: the API refuses it from now on (401). Exits 1 when no token has
    that name."""
    from newsletter.store.tokens import revoke_token

    revoked = revoke_token(load_app().sessions, name)
    if revoked is None:
        fail(f"no token named {name}")
    typer.echo(f"revoked {name}")
