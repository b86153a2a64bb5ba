"""``newsletter serve``, ``run`` and ``schedule``: the web pages under uvicorn, the
scheduler with them, and the runs it plans. uvicorn, Starlette and APScheduler are
imported when one of these commands runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from newsletter.cli.common import fail, load_app, parse_from

HostOption = Annotated[str, typer.Option("--host", help="Address to listen on.")]
PortOption = Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)]
BehindProxyOption = Annotated[
    bool,
    typer.Option(
        "--behind-proxy",
        help="Trust X-Forwarded-For from 127.0.0.1 (a reverse proxy on this machine).",
    ),
]

#: uvicorn's exit status when the server cannot start (uvicorn.server.STARTUP_FAILURE).
UVICORN_STARTUP_FAILURE = 3


@contextmanager
def listening(host: str, port: int) -> Iterator[None]:
    """Around ``uvicorn.run``: a server that cannot start (port in use, host that does not
    resolve; uvicorn logs the reason and exits 3) exits 1 as the README's exit statuses
    say, with ``error: cannot listen on host:port``."""
    try:
        yield
    except SystemExit as exc:
        if exc.code == UVICORN_STARTUP_FAILURE:
            fail(
                f"cannot listen on {host}:{port} (the reason is logged above, e.g. a port in use "
                "or a host name that does not resolve); choose another with --host/--port"
            )
        raise


def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    behind_proxy: BehindProxyOption = False,
) -> None:
    """Serve the readers' pages (sign-up, unsubscribe, preferences, archive) and the
    editors' pages (/editor) with uvicorn."""
    import uvicorn

    from newsletter.web.app import create_app

    application = load_app()
    with listening(host, port):
        uvicorn.run(
            create_app(application), host=host, port=port, log_level="info",
            proxy_headers=behind_proxy, forwarded_allow_ips="127.0.0.1" if behind_proxy else "",
        )  # fmt: skip


def schedule(
    as_json: Annotated[
        bool, typer.Option("--json", help='Print [{"job", "local", "utc"}] as JSON.')
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="ISO date-time to start from (local time without an offset; default now).",
        ),
    ] = None,
    days: Annotated[int, typer.Option("--days", help="Local days to cover.", min=1, max=366)] = 7,
) -> None:
    """The planned compose and send runs, computed by the scheduler's own code."""
    from newsletter.scheduler.timing import planned_runs

    application = load_app(ready=False)
    runs = planned_runs(application.settings, parse_from(start, application), days)
    if as_json:
        typer.echo(json.dumps(runs, indent=2))
        return
    for run in runs:
        typer.echo(f"{run['job']:<8} {run['local']}  ({run['utc']})")


def run(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    behind_proxy: BehindProxyOption = False,
) -> None:
    """The scheduler (compose, notify the editors, send each day) and the web app in one
    process, with JSON logs on stderr. Add `newsletter worker` processes to deliver."""
    import uvicorn

    from newsletter.scheduler.logs import configure
    from newsletter.scheduler.runner import Runner, StopWithServer
    from newsletter.web.app import create_app

    application = load_app()
    configure()
    runner = Runner(application)
    runner.start()
    try:
        with listening(host, port):
            uvicorn.run(
                StopWithServer(create_app(application, scheduler=runner), runner.stop),
                host=host, port=port, log_config=None, proxy_headers=behind_proxy,
                forwarded_allow_ips="127.0.0.1" if behind_proxy else "",
            )  # fmt: skip
    finally:
        runner.stop()  # when the server failed to start (a port in use)
