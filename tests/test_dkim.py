"""DKIM signatures (RFC 6376) made through OpenSSL, RSA-SHA256 and Ed25519-SHA256 (RFC 8463),
checked offline by dkimpy (its Ed25519 needs PyNaCl, a test dependency) on a real edition's
messages and on bodies that exercise relaxed canonicalisation."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from newsletter.config.settings import load_settings
from newsletter.errors import ConfigError
from newsletter.render.dkim import DKIMError, DKIMSigner, relaxed_body
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App

DAY = date(2026, 3, 25)
Keys = dict[str, tuple[bytes, bytes]]  # selector -> (private PEM, DNS TXT record)


def rsa_key(bits: int = 2048) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def ed25519_key() -> tuple[bytes, bytes]:
    """A PKCS#8 PEM Ed25519 key and its record: the raw 32-byte public key (RFC 8463 4)."""
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return pem, b"v=DKIM1; k=ed25519; p=" + base64.b64encode(public)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return {"brief": rsa_key(), "brief-ed": ed25519_key(), "other": rsa_key()}


def dns(keys: Keys) -> Callable[..., bytes]:
    """dkimpy's DNS lookup, answered from ``keys`` (``<selector>._domainkey.example.ma.``)."""

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        selector, _, domain = name.decode().partition("._domainkey.")
        assert domain.rstrip(".") == "example.ma"
        return keys[selector][1]

    return lookup


def verified(raw: bytes, keys: Keys) -> list[bool]:
    """Whether each DKIM-Signature of ``raw`` verifies, top to bottom."""
    count = raw.split(b"\r\n\r\n", 1)[0].count(b"DKIM-Signature:")
    checker = dkim.DKIM(raw)
    results = []
    for index in range(count):
        try:
            results.append(bool(checker.verify(idx=index, dnsfunc=dns(keys))))
        except dkim.ValidationError:  # a body hash that differs is raised, not returned
            results.append(False)
    return results


def algorithms(raw: bytes) -> list[str]:
    message = raw.replace(b"\r\n ", b" ")
    return [
        line.split(b"a=", 1)[1].split(b";", 1)[0].decode()
        for line in message.split(b"\r\n")
        if line.startswith(b"DKIM-Signature:")
    ]


def sent_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys, *, ed: bool):
    """The sample day's edition written by the file provider for four readers (two topic
    variants), signed as configured through the environment."""
    for selector, (pem, _) in keys.items():
        (tmp_path / f"{selector}.pem").write_bytes(pem)
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{tmp_path / 'd.db'}")
    monkeypatch.setenv("NEWSLETTER_FROM", "Le Brief <newsletter@example.ma>")
    monkeypatch.setenv("NEWSLETTER_UNSUBSCRIBE_MAILTO", "unsubscribe@example.ma")
    monkeypatch.setenv("NEWSLETTER_DKIM_SELECTOR", "brief")
    monkeypatch.setenv("NEWSLETTER_DKIM_PRIVATE_KEY", str(tmp_path / "brief.pem"))
    if ed:
        monkeypatch.setenv("NEWSLETTER_DKIM_ED25519_SELECTOR", "brief-ed")
        monkeypatch.setenv("NEWSLETTER_DKIM_ED25519_PRIVATE_KEY", str(tmp_path / "brief-ed.pem"))
    app = App(load_settings())
    app.init_db()
    app.ingest.sample(DAY)
    with app.sessions.begin() as session:
        for email, name, topics in [
            ("helene@example.org", "Hélène  Benjelloun", []),
            ("youssef@example.org", "Youssef El Amrani", ["sport"]),
            ("zineb@example.org", None, []),
            ("omar@example.org", None, ["sport"]),
        ]:
            add_subscriber(
                session, SubscriberRecord(email, name=name, topics=topics), source="test"
            )
    assert app.release.send(DAY).run.sent == 4
    files = sorted(Path(tmp_path).rglob("*.eml"))
    assert len(files) == 4
    return [file.read_bytes() for file in files]


def test_rsa_signature_of_each_message_verifies_and_tampering_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    messages = sent_messages(tmp_path, monkeypatch, keys, ed=False)
    for raw in messages:
        assert algorithms(raw) == ["rsa-sha256"]
        assert verified(raw, keys) == [True]
        token = raw.split(b"/u/", 1)[1][:10]
        for tampered in (
            raw.replace(b"Subject:", b"Subject: X", 1),
            raw.replace(token, token[::-1]),  # an unsubscribe link changed in the body
            raw.replace(b"To:", b"To: eve@example.org,", 1),
        ):
            assert verified(tampered, keys) == [False]


def test_rsa_and_ed25519_signatures_both_verify_and_both_fail_when_tampered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    messages = sent_messages(tmp_path, monkeypatch, keys, ed=True)
    for raw in messages:
        assert algorithms(raw) == ["rsa-sha256", "ed25519-sha256"]
        assert verified(raw, keys) == [True, True]
        body_changed = raw.replace(b"<html", b"<html data-x", 1)
        assert body_changed != raw
        assert verified(body_changed, keys) == [False, False]
        assert verified(raw.replace(b"List-Unsubscribe-Post:", b"X-Was:", 1), keys) == [
            False,
            False,
        ]
        # A receiver that only knows the Ed25519 record still verifies that signature.
        wrong_rsa = {**keys, "brief": keys["other"]}
        assert verified(raw, wrong_rsa) == [False, True]


BODIES = [
    b"Hello  world\t!\r\n \r\nline with trailing space \r\n\r\n\r\n",
    b"tabs\t\tand  spaces  \t\r\nend without newline",
    b"\r\n\r\n",
    b"",
    b"A" * 2000 + b"\r\n" + b"shared  line \r\n" * 100 + b"personal 1\r\n" + b"tail\r\n\r\n",
    b"A" * 2000 + b"\r\n" + b"shared  line \r\n" * 100 + b"personal 22\r\n" + b"tail\r\n",
    b"A" * 2000 + b"\r\n" + b"shared  line \r\n" * 100 + b"  \r\n\r\n",  # the prefix, then blanks
    b"B" * 2000 + b"\r\n" + b"other variant\r\n" * 100 + b"x\r\n",
    b"A" * 2000 + b"\r\n" + b"shared  line \r\n" * 100 + b"personal 333\r\n",
]


@pytest.mark.parametrize("algorithm", ["rsa", "ed25519"])
def test_relaxed_body_and_shared_prefixes_match_dkimpy(keys: Keys, algorithm: str) -> None:
    """White space runs, trailing spaces, blank lines at the end, an empty body, and bodies
    that share (or stop sharing) the prefix the signer hashes once: dkimpy agrees on each."""
    selector = "brief" if algorithm == "rsa" else "brief-ed"
    signer = DKIMSigner(selector, "example.ma", keys[selector][0])
    for round_ in range(2):  # the second round hits the remembered prefixes
        for number, body in enumerate(BODIES):
            raw = (
                b"From: a@example.ma\r\nTo: r%d@example.org\r\nSubject:  Hi\r\n\tthere \r\n"
                b"Date: Wed, 25 Mar 2026 06:00:00 +0000\r\n\r\n" % (number + 10 * round_)
            ) + body
            signed = signer.sign(raw)
            assert verified(signed, keys) == [True], (round_, number)
            if relaxed_body(body).strip():
                assert verified(signed.replace(body, body + b"x"), keys) == [False]


def test_keys_other_than_usable_rsa_or_ed25519_are_refused(tmp_path: Path, keys: Keys) -> None:
    openssl = shutil.which("openssl")  # cryptography does not make keys under 1024 bits
    if openssl:
        short = subprocess.run([openssl, "genrsa", "768"], capture_output=True, check=True)
        with pytest.raises(DKIMError, match="RFC 8301"):
            DKIMSigner("s", "example.ma", short.stdout)
    with pytest.raises(DKIMError, match="neither"):
        DKIMSigner("s", "example.ma", b"not a key")
    with pytest.raises(DKIMError, match="different selectors") as refused:
        DKIMSigner("s", "example.ma", keys["brief"][0], second_selector="s",
                   second_key=keys["brief-ed"][0])  # fmt: skip
    assert refused.value.key == 1
    with pytest.raises(DKIMError, match="cannot read"):
        DKIMSigner.from_file("s", "example.ma", tmp_path / "missing.pem")


def test_an_ed25519_key_as_dkimpy_writes_it_signs_alone(keys: Keys) -> None:
    """The base64 32-byte seed of dkimpy's ``dknewkey --ktype ed25519`` is read too."""
    private = serialization.load_pem_private_key(keys["brief-ed"][0], password=None)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    signer = DKIMSigner("brief-ed", "example.ma", base64.b64encode(seed))
    signed = signer.sign(b"From: a@example.ma\r\nSubject: s\r\n\r\nbody\r\n")
    assert algorithms(signed) == ["ed25519-sha256"] and verified(signed, keys) == [True]


def test_half_set_ed25519_settings_and_an_rsa_key_in_its_place_are_config_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    (tmp_path / "rsa.pem").write_bytes(keys["brief"][0])
    monkeypatch.setenv("NEWSLETTER_DKIM_SELECTOR", "brief")
    monkeypatch.setenv("NEWSLETTER_DKIM_PRIVATE_KEY", str(tmp_path / "rsa.pem"))
    monkeypatch.setenv("NEWSLETTER_DKIM_ED25519_SELECTOR", "brief-ed")
    with pytest.raises(ConfigError, match="NEWSLETTER_DKIM_ED25519_PRIVATE_KEY go together"):
        App(load_settings()).dkim_signer()
    monkeypatch.setenv("NEWSLETTER_DKIM_ED25519_PRIVATE_KEY", str(tmp_path / "rsa.pem"))
    with pytest.raises(ConfigError, match="NEWSLETTER_DKIM_ED25519_PRIVATE_KEY: not an Ed25519"):
        App(load_settings()).dkim_signer()
