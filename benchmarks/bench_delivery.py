"""Delivery speed and memory (``make bench``): an edition sent to N synthetic subscribers.

Scenarios, each in a fresh child process so that its peak RSS is its own:
  file/sqlite, smtp/sqlite, smtp-sink/sqlite, file+dkim-rsa/sqlite, file+dkim-both/sqlite
  (RSA and Ed25519 signatures), and with ``--postgres URL`` file/postgresql,
  smtp/postgresql and smtp/postgresql with 2 worker processes.
The SMTP side is aiosmtpd's Sink handler in its own process (``smtp``), or Postfix's
``smtp-sink`` (``smtp-sink``, skipped when it is not installed: Debian package ``postfix``),
a C server fast enough not to be the bound. Printed per scenario:
messages per second (wall), CPU microseconds per message in our process(es), peak RSS.
The naive path (an EmailMessage and a premailer run per message, what the render-once
design avoids) is timed on a sample and its rate compared.

HTTP rows: each HTTP provider (mailgun, sendgrid, postmark, resend, ses) sends to its
stand-in (``benchmarks/standins.py``: real HTTP on 127.0.0.1, the documented request and
answer, 50 ms latency), on SQLite, at the default settings, to ``--http-subscribers``
readers (10,000): calls, recipients per call and calls in flight are printed too, and the
rate and CPU per message after the first hand-over ("steady": without the start-up's
imports and the rendering, which a run of 10,000 readers spreads thin).

PostgreSQL is ``--postgres``, else ``$NEWSLETTER_TEST_DATABASE_URL``, else the local server
(127.0.0.1:5432, user postgres) when it answers; each scenario gets a fresh schema. The
table ends with the targets the delivery rows must meet here (:data:`TARGETS`), met or not.
The file rows write their outbox on the RAM file system (``/dev/shm``, see
:func:`ram_folder`; ``--outbox-on-disk`` for the disk), and print what creating a message
file costs on each, the file system's share of their figure.

With PostgreSQL, :func:`worker_scaling` then measures one against two worker processes at
default settings (one commit per message) through a stand-in provider that answers each
call after ``--latency`` seconds (a provider's round trip): the edition's rate with two
workers over its rate with one.

Usage: python -m benchmarks.bench_delivery [--subscribers 10000] [--postgres URL]
       [--million]  (1,000,000 subscribers) [--only file/sqlite]  (one scenario)
       [--http-subscribers 10000] [--latency 0.05] [--only mailgun/sqlite | http] [--no-http]
       [--profile]  (the scenarios print their top functions by own time, cProfile)
       [--only scaling] [--scaling-subscribers 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from newsletter.providers.base import BatchResult, Envelope, MessageResult, Result

DAY = date(2026, 3, 25)
SECRET = "bench-secret-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(database_url: str, data_dir: Path, subscribers: int) -> None:
    """Schema, sample articles, ``subscribers`` rows (bulk, streamed), the edition composed."""
    from sqlalchemy import insert

    from newsletter.config.settings import load_settings
    from newsletter.store.models import Subscriber
    from newsletter.timeutil import utcnow
    from newsletter.wiring import App

    os.environ.update(NEWSLETTER_DATABASE_URL=database_url, NEWSLETTER_DATA_DIR=str(data_dir))
    app = App(load_settings())
    app.init_db()
    app.ingest.sample(DAY)
    now = utcnow()
    chunk = 10_000
    with app.engine.begin() as connection:
        for start in range(0, subscribers, chunk):
            rows = [
                {
                    "email": f"r{n:07d}@example.org",
                    "email_key": f"r{n:07d}@example.org",
                    "name": None,
                    "topics": [],
                    "timezone": None,
                    "status": "active",
                    "source": "bench",
                    "created_at": now,
                    "confirmed_at": now,
                }
                for n in range(start, min(start + chunk, subscribers))
            ]
            connection.execute(insert(Subscriber), rows)
    app.composer.compose(DAY)
    app.engine.dispose()


def peak_rss_kb() -> int:
    """This process's peak resident set in KiB: ``VmHWM`` of ``/proc/self/status``, the
    peak of this program's own memory. ``ru_maxrss`` would do elsewhere, but Linux carries
    it across ``exec``: a scenario would report the bench's own process as it was when it
    started the scenario."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def scenario(args: argparse.Namespace) -> None:
    """Child process: deliver the prepared edition; print a JSON line of measurements."""
    from newsletter.config.settings import load_settings
    from newsletter.wiring import App

    os.environ.update(NEWSLETTER_DATABASE_URL=args.database_url, NEWSLETTER_DATA_DIR=args.data_dir)
    if args.outbox_dir:
        os.environ["NEWSLETTER_OUTBOX_DIR"] = args.outbox_dir
    if args.provider in ("smtp", "smtp-sink"):
        os.environ.update(NEWSLETTER_PROVIDER="smtp", NEWSLETTER_SMTP_HOST="127.0.0.1",
                          NEWSLETTER_SMTP_PORT=str(args.port))  # fmt: skip
    if args.provider.startswith("file+dkim"):
        keys = Path(args.data_dir)
        os.environ.update(NEWSLETTER_DKIM_SELECTOR="rsa",
                          NEWSLETTER_DKIM_PRIVATE_KEY=str(keys / "rsa.pem"))  # fmt: skip
        if args.provider == "file+dkim-both":
            os.environ.update(NEWSLETTER_DKIM_ED25519_SELECTOR="ed",
                              NEWSLETTER_DKIM_ED25519_PRIVATE_KEY=str(keys / "ed.pem"))  # fmt: skip
    standin = LatencyProvider(args.latency) if args.provider == "standin" else None
    app = App(load_settings(), provider=standin)
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    cpu = time.process_time()
    wall = time.perf_counter()
    first: list[float] = []  # at the first hand-over: messages sent, CPU, wall

    def progress(report: Any) -> None:
        if not first:
            first.extend((report.sent, time.process_time(), time.perf_counter()))

    if args.role == "send":
        result = app.release.send(DAY, in_process=True, on_progress=progress)
        sent = result.run.sent
    else:
        sent = app.delivery.work(once=True, poll_seconds=0.2)
    steady = {}
    if first and sent > first[0]:  # after the first hand-over: no import, no rendering
        steady = {"steady_sent": sent - first[0], "steady_cpu": time.process_time() - first[1],
                  "steady_wall": time.perf_counter() - first[2]}  # fmt: skip
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    print(json.dumps({
        "sent": sent, "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
        "rss_kb": peak_rss_kb(), **steady,
    }))  # fmt: skip


#: What each HTTP provider's scenario sets, ``{url}`` being its stand-in's base URL.
HTTP_SETTINGS = {
    "mailgun": {"NEWSLETTER_MAILGUN_API_URL": "{url}", "NEWSLETTER_MAILGUN_API_KEY": "bench",
                "NEWSLETTER_MAILGUN_DOMAIN": "mg.example.ma"},
    "sendgrid": {"NEWSLETTER_SENDGRID_API_URL": "{url}", "NEWSLETTER_SENDGRID_API_KEY": "SG.b"},
    "postmark": {"NEWSLETTER_POSTMARK_API_URL": "{url}", "NEWSLETTER_POSTMARK_TOKEN": "bench"},
    "resend": {"NEWSLETTER_RESEND_API_URL": "{url}", "NEWSLETTER_RESEND_API_KEY": "re_bench"},
    "ses": {"NEWSLETTER_SES_ENDPOINT_URL": "{url}", "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "eu-west-1"},
}  # fmt: skip


def http_rows(args: argparse.Namespace, env: dict[str, str]) -> list[tuple[Any, ...]]:
    """Each HTTP provider to its stand-in, on SQLite: (name, sent, msg/s, CPU us/msg,
    peak RSS MB, calls, recipients per call, most calls in flight)."""
    from benchmarks.standins import serve

    rows = []
    for provider, settings in HTTP_SETTINGS.items():
        if args.only not in (None, "http", f"{provider}/sqlite"):
            continue
        folder = Path(tempfile.mkdtemp(prefix="nlbench-"))
        database = url_for("sqlite", None, folder)
        prepare(database, folder, args.http_subscribers)
        url, stop, counters = serve(provider, args.latency)
        try:
            child_env = {**env, "NEWSLETTER_PROVIDER": provider}
            child_env.update({k: v.format(url=url) for k, v in settings.items()})
            base = ["--scenario", "--provider", provider, "--database-url", database,
                    "--data-dir", str(folder)]  # fmt: skip
            result = run_child([*base, "--role", "send"], child_env)
        finally:
            stop()
            shutil.rmtree(folder, ignore_errors=True)
        sent = result["sent"]
        assert counters.recipients == sent and not counters.problems, counters.problems
        per_call = counters.recipients / max(counters.calls, 1)
        steady = result.get("steady_sent", 0)
        rows.append((f"{provider} stand-in ({args.latency * 1000:.0f} ms)", sent,
                     sent / result["wall"], 1e6 * result["cpu"] / max(sent, 1),
                     result["rss_kb"] / 1024, counters.calls, per_call,
                     counters.in_flight_max,
                     steady / result["steady_wall"] if steady else 0.0,
                     1e6 * result["steady_cpu"] / steady if steady else 0.0))  # fmt: skip
    return rows


class LatencyProvider:
    """A stand-in provider that answers each call after ``latency`` seconds, accepting every
    message: an HTTP API's or a relay's round trip, without a server process competing for
    the two cores (what is measured is the workers and the database). One message per call,
    no ``settle``: one commit per message at default settings, the database's worst case."""

    name = "standin"
    batch_size = 1

    def __init__(self, latency: float) -> None:
        self.latency = latency

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        time.sleep(self.latency)
        return BatchResult([MessageResult(e.key, Result.SENT) for e in envelopes])

    def close(self) -> None:
        """Nothing to close."""


def worker_scaling(
    postgres: str, env: dict[str, str], subscribers: int, latency: float
) -> tuple[float, float]:
    """Messages per second of the edition with one worker process, then with two, each on
    a fresh PostgreSQL schema with ``subscribers`` readers, through a
    :class:`LatencyProvider` of ``latency`` seconds. Settings are the defaults (one commit
    per message); the time is the longest worker's, from its first claim to its end."""
    rates = []
    for workers in (1, 2):
        folder = Path(tempfile.mkdtemp(prefix="nlbench-"))
        database = url_for("postgresql", postgres, folder)
        prepare(database, folder, subscribers)
        release_only(database, folder)
        base = ["--scenario", "--provider", "standin", "--database-url", database,
                "--data-dir", str(folder), "--latency", str(latency),
                "--role", "worker"]  # fmt: skip
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.bench_delivery", *base],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        results = [json.loads(c.communicate()[0].strip().splitlines()[-1]) for c in children]
        # The workers' own time (they start together): process start-up and the edition's
        # one-time rendering are left out, being the same for one worker or ten.
        wall = max(r["wall"] for r in results)
        sent = sum(r["sent"] for r in results)
        assert sent == subscribers, f"{workers} workers sent {sent} of {subscribers}"
        rates.append(sent / wall)
        shutil.rmtree(folder, ignore_errors=True)
    return rates[0], rates[1]


def release_only(database: str, folder: Path) -> None:
    """Release the prepared edition without sending (the workers share it)."""
    from newsletter.config.settings import load_settings
    from newsletter.wiring import App

    os.environ.update(NEWSLETTER_DATABASE_URL=database, NEWSLETTER_DATA_DIR=str(folder))
    app = App(load_settings())
    app.release.send(DAY, should_stop=lambda: True)  # releases, sends nothing
    app.engine.dispose()


def run_child(extra: list[str], env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_delivery", *extra],
                         env=env, capture_output=True, text=True, check=True)  # fmt: skip
    if "--profile" in extra:
        sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_dkim_keys(folder: Path) -> None:
    """A fresh RSA-2048 key (``rsa.pem``) and Ed25519 key (``ed.pem``) in ``folder``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    pkcs8 = (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
             serialization.NoEncryption())  # fmt: skip
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (folder / "rsa.pem").write_bytes(rsa_key.private_bytes(*pkcs8))
    (folder / "ed.pem").write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(*pkcs8))


def start_smtp_sink(port: int) -> subprocess.Popen[bytes] | None:
    """Postfix's smtp-sink on ``port`` (it advertises PIPELINING), or None when it is not
    installed."""
    path = shutil.which("smtp-sink") or next(
        (p for p in ("/usr/sbin/smtp-sink", "/usr/bin/smtp-sink") if os.path.exists(p)), None
    )
    if path is None:
        return None
    user = ["-u", "nobody"] if os.geteuid() == 0 else []  # it will not run as root
    return subprocess.Popen([path, *user, f"127.0.0.1:{port}", "1000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def naive_rate(sample: int = 100) -> float:
    """Messages per second of the naive path: premailer and an EmailMessage per message."""
    import premailer

    from newsletter.config.settings import load_settings
    from newsletter.wiring import App

    with tempfile.TemporaryDirectory() as folder:
        prepare(f"sqlite:///{folder}/naive.db", Path(folder), 1)
        app = App(load_settings())
        edition = app.drafts.get(DAY)
        assert edition is not None
        rendered = app.renderer.render(edition)
        raw_html = rendered.html  # already inlined once; the naive path inlines again
        start = time.process_time()
        for n in range(sample):
            html, text = rendered.fill({"email": f"r{n}@example.org", "unsubscribe_url": "https://x/u/t",
                                        "preferences_url": "https://x/p/t"})  # fmt: skip
            html = premailer.Premailer(raw_html.replace("</body>", f"<p>{n}</p></body>"),
                                       cssutils_logging_level=50).transform()  # fmt: skip
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = (
                "a@example.ma",
                f"r{n}@example.org",
                edition.subject,
            )
            message.set_content(text)
            message.add_alternative(html, subtype="html")
            message.as_bytes()
        return sample / (time.process_time() - start)


def main() -> None:
    """Run the scenarios and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--million", action="store_true", help="1,000,000 subscribers")
    parser.add_argument(
        "--only",
        help="run one scenario, e.g. file/sqlite (a 1,000,000-reader memory check in minutes), "
        "mailgun/sqlite, or http (the HTTP providers' rows only)",
    )
    parser.add_argument(
        "--postgres", help="PostgreSQL URL (default: $NEWSLETTER_TEST_DATABASE_URL)"
    )
    parser.add_argument("--http-subscribers", type=int, default=10_000,
                        help="readers of the HTTP providers' rows (default 10,000)")  # fmt: skip
    parser.add_argument("--latency", type=float, default=0.05, help="stand-ins' seconds")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP providers")
    parser.add_argument("--profile", action="store_true", help="cProfile each scenario")
    parser.add_argument("--scenario", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--role", default="send", help=argparse.SUPPRESS)
    parser.add_argument("--provider", default="file", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--outbox-dir", help=argparse.SUPPRESS)
    parser.add_argument("--outbox-on-disk", action="store_true",
                        help="the file rows' outbox beside the database, on disk, rather than "
                        "on the RAM file system (/dev/shm)")  # fmt: skip
    parser.add_argument("--scaling-subscribers", type=int, default=2_000)
    args = parser.parse_args()
    if args.scenario:
        scenario(args)
        return
    count = 1_000_000 if args.million else args.subscribers
    postgres = args.postgres or os.environ.get("NEWSLETTER_TEST_DATABASE_URL") or local_postgres()
    if postgres is None:
        print(f"PostgreSQL rows skipped: no --postgres, no NEWSLETTER_TEST_DATABASE_URL, and "
              f"nothing answers at {LOCAL_POSTGRES}")  # fmt: skip
    # A real list is refused while the example postal address is in the footer.
    postal = "Le Brief, 12 rue du Banc d'essai, 20000 Casablanca, Maroc"
    env = {**os.environ, "NEWSLETTER_SECRET_KEY": SECRET, "NEWSLETTER_POSTAL_ADDRESS": postal}
    env.pop("NEWSLETTER_CONFIG", None)
    os.environ["NEWSLETTER_SECRET_KEY"] = SECRET
    port, sink_port = free_port(), free_port()
    sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                             "-c", "aiosmtpd.handlers.Sink"])  # fmt: skip
    postfix_sink = start_smtp_sink(sink_port)
    if postfix_sink is None:
        print("smtp-sink is not installed (Debian package postfix): its row is skipped")
    time.sleep(1.0)
    rows = []
    try:
        backends = [("sqlite", None)] + ([("postgresql", postgres)] if postgres else [])
        for backend, url in backends:
            plans = [("file", 1), ("smtp", 1)] + ([("smtp", 2)] if url else [])
            if backend == "sqlite":
                plans += [("smtp-sink", 1), ("file+dkim-rsa", 1), ("file+dkim-both", 1)]
            for provider, workers in plans:
                if args.only and args.only != f"{provider}/{backend}" + (
                    f" x{workers}" if workers > 1 else ""
                ):
                    continue
                if provider == "smtp-sink" and postfix_sink is None:
                    continue
                folder = Path(tempfile.mkdtemp(prefix="nlbench-"))
                database = url_for(backend, url, folder)
                prepare(database, folder, count)
                write_dkim_keys(folder)
                outbox = None if args.outbox_on_disk else ram_folder()
                base = ["--scenario", "--provider", provider, "--database-url", database,
                        "--data-dir", str(folder),
                        *(["--outbox-dir", str(outbox)] if outbox else []),
                        "--port", str(sink_port if provider == "smtp-sink" else port),
                        *(["--profile"] if args.profile else [])]  # fmt: skip
                start = time.perf_counter()
                if workers == 1:
                    results = [run_child([*base, "--role", "send"], env)]
                else:
                    # Release first, then let two worker processes share the edition.
                    release_only(database, folder)
                    command = [sys.executable, "-m", "benchmarks.bench_delivery", *base]
                    children = [
                        subprocess.Popen(
                            [*command, "--role", "worker"],
                            env=env,
                            stdout=subprocess.PIPE,
                            text=True,
                        )
                        for _ in range(2)
                    ]
                    results = [
                        json.loads(c.communicate()[0].strip().splitlines()[-1]) for c in children
                    ]
                wall = time.perf_counter() - start if workers > 1 else results[0]["wall"]
                sent = sum(r["sent"] for r in results)
                steady = sum(r.get("steady_sent", 0) for r in results) if workers == 1 else 0
                first = results[0]
                rows.append((f"{provider}/{backend}" + (" x2 workers" if workers > 1 else ""), sent,
                             sent / wall, 1e6 * sum(r["cpu"] for r in results) / max(sent, 1),
                             max(r["rss_kb"] for r in results) / 1024,
                             steady / first["steady_wall"] if steady else 0.0,
                             1e6 * first["steady_cpu"] / steady if steady else 0.0))  # fmt: skip
                shutil.rmtree(folder, ignore_errors=True)
                if outbox is not None:
                    shutil.rmtree(outbox, ignore_errors=True)
        http = [] if args.no_http else http_rows(args, env)
        naive = naive_rate() if args.only in (None, "file/sqlite") else None
        scaling = None
        if postgres and args.only in (None, "scaling"):
            scaling = worker_scaling(postgres, env, args.scaling_subscribers, args.latency)
    finally:
        for server in (sink, postfix_sink):
            if server is not None:
                server.terminate()
                server.wait()
    print(f"\n{count} subscribers")
    print(f"{'scenario':<28} {'sent':>8} {'msg/s':>8} {'CPU us/msg':>11} {'peak RSS MB':>12}"
          f" {'steady msg/s':>13} {'steady CPU us':>14}")  # fmt: skip
    for name, sent, rate, cpu, rss, s_rate, s_cpu in rows:
        print(f"{name:<28} {sent:>8} {rate:>8.0f} {cpu:>11.0f} {rss:>12.0f}"
              f" {s_rate:>13.0f} {s_cpu:>14.0f}")  # fmt: skip
    if any(row[0].startswith("file") for row in rows):
        where = "on disk, beside the database" if args.outbox_on_disk else "on the RAM file system"
        print(f"file rows: the outbox {where}; {file_creation_cost()}")
    if http:
        print(f"\n{args.http_subscribers} subscribers, HTTP providers (SQLite, default settings)")
        print(f"{'scenario':<28} {'sent':>8} {'msg/s':>8} {'CPU us/msg':>11} {'peak RSS MB':>12}"
              f" {'calls':>6} {'per call':>9} {'in flight':>10} {'steady msg/s':>13}"
              f" {'steady CPU us':>14}")  # fmt: skip
        for name, sent, rate, cpu, rss, calls, per_call, in_flight, s_rate, s_cpu in http:
            print(f"{name:<28} {sent:>8} {rate:>8.0f} {cpu:>11.0f} {rss:>12.0f} {calls:>6}"
                  f" {per_call:>9.0f} {in_flight:>10} {s_rate:>13.0f} {s_cpu:>14.0f}")  # fmt: skip
        print("steady: after the first hand-over (the edition rendered, modules imported)")
    by_name = {row[0]: row for row in rows}
    if "file/sqlite" in by_name:
        for signed in ("file+dkim-rsa/sqlite", "file+dkim-both/sqlite"):
            if signed in by_name:
                extra = by_name[signed][3] - by_name["file/sqlite"][3]
                print(f"{signed}: {extra:.0f} us of CPU a message for DKIM over file/sqlite")
    if naive is not None and rows and rows[0][0].startswith("file/sqlite"):
        ours = 1e6 / rows[0][3]  # file/sqlite: our own CPU per message, without a server's
        print(f"\nnaive path (premailer + EmailMessage per message): {naive:.0f} msg/s of CPU")
        print(f"render-once path, file/sqlite: {ours:.0f} msg/s of CPU, {ours / naive:.1f}x naive")
    print_targets(rows, http, scaling, args)
    if scaling is not None:
        one, two = scaling
        print(f"\nworkers on PostgreSQL, a stand-in answering each call after {args.latency:g} s, "
              f"{args.scaling_subscribers} readers, default settings: 1 worker {one:.0f} msg/s, "
              f"2 workers {two:.0f} msg/s, {two / one:.2f}x")  # fmt: skip


def ram_folder() -> Path | None:
    """A fresh folder on the RAM file system (``/dev/shm``), or None where there is none.

    The file rows write their outbox there: creating a file on this machine's virtual disk
    costs from 30 to 700 us of kernel time, depending on the file system's state (a fresh
    ext4 initialises its inode tables lazily), which would measure the disk, not us.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        return None
    return Path(tempfile.mkdtemp(prefix="nlbench-outbox-", dir=shm))


def file_creation_cost(files: int = 2_000, size: int = 45_000) -> str:
    """What creating ``files`` files of ``size`` bytes costs in CPU (mostly the kernel's),
    on disk (the temporary folder) and on the RAM file system: the floor under the file
    provider's figure, which is the file system's and not ours."""
    data = b"x" * size
    costs = []
    places = [("disk", Path(tempfile.mkdtemp(prefix="nlbench-files-")))]
    ram = ram_folder()
    if ram is not None:
        places.append(("RAM", ram))
    for label, folder in places:
        start = time.process_time()
        for n in range(files):
            path = f"{folder}/{n:07d}.eml"
            descriptor = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            os.write(descriptor, data)
            os.close(descriptor)
            os.replace(path + ".tmp", path)
        costs.append(f"{label} {1e6 * (time.process_time() - start) / files:.0f} us")
        shutil.rmtree(folder, ignore_errors=True)
    return f"writing a {size // 1000} KB message file costs " + ", ".join(costs) + " of CPU here"


#: The local server tried when no PostgreSQL URL is given (as ``make test`` does).
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def local_postgres() -> str | None:
    """:data:`LOCAL_POSTGRES` when a server answers there, else None."""
    try:
        import psycopg
    except ImportError:
        return None
    try:
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres "
                             "connect_timeout=3"):  # fmt: skip
            return LOCAL_POSTGRES
    except psycopg.Error:
        return None


#: What the delivery rows must show at 10,000 readers on this machine (2 cores): name,
#: row, column ("rate" msg/s, "cpu" steady CPU us a message), bound, at least (True) or at
#: most. The HTTP bounds are twice Ghost's path through Mailgun here (about 1,300 msg/s).
TARGET_READERS = 10_000
TARGETS = [
    ("Mailgun stand-in", "mailgun", "rate", 2_500, True),
    ("Mailgun stand-in", "mailgun", "cpu", 300, False),
    ("SendGrid stand-in", "sendgrid", "rate", 2_500, True),
    ("SendGrid stand-in", "sendgrid", "cpu", 300, False),
    ("Postmark stand-in", "postmark", "rate", 1_000, True),
    ("file with DKIM (RSA)", "file+dkim-rsa/sqlite", "rate", 1_500, True),
    ("file without DKIM", "file/sqlite", "cpu", 150, False),
    ("smtp-sink", "smtp-sink/sqlite", "rate", 1_500, True),
]


def print_targets(
    rows: list[tuple[Any, ...]],
    http: list[tuple[Any, ...]],
    scaling: tuple[float, float] | None,
    args: argparse.Namespace,
) -> None:
    """Each target beside its figure, met or not; rows not run, or run for another number
    of readers than the targets' 10,000, are left out."""
    figures: dict[str, dict[str, float]] = {}
    count = 1_000_000 if args.million else args.subscribers
    for row in rows if count == TARGET_READERS else []:
        figures[row[0]] = {"rate": row[2], "cpu": row[6] or row[3]}
    for row in http if args.http_subscribers == TARGET_READERS else []:
        figures[row[0].split()[0]] = {"rate": row[2], "cpu": row[9] or row[3]}
    lines = []
    for label, name, column, bound, at_least in TARGETS:
        if name not in figures:
            continue
        value = figures[name][column]
        met = value >= bound if at_least else value <= bound
        unit = "msg/s" if column == "rate" else "us of CPU a message (steady)"
        sign = ">=" if at_least else "<="
        lines.append(
            f"  {'met ' if met else 'MISS'}  {label}: {value:,.0f} {unit} ({sign} {bound:,})"
        )
    if scaling is not None:
        ratio = scaling[1] / scaling[0]
        lines.append(f"  {'met ' if ratio >= 1.7 else 'MISS'}  two workers on PostgreSQL: "
                     f"{ratio:.2f} times one (>= 1.7)")  # fmt: skip
    if lines:
        print("\ntargets:")
        print("\n".join(lines))


def url_for(backend: str, url: str | None, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}"
    from newsletter.store.db import fresh_schema_url

    assert url
    return fresh_schema_url(url, prefix="bench")


if __name__ == "__main__":
    main()
