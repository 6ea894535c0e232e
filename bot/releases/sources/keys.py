"""Parsing what an admin types as a source into a normalised source key."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from bot.errors import UserFacingError

SourceKind = Literal["hf", "github", "feed"]

MAX_SOURCE_LENGTH = 300
SOURCE_HELP = (
    "Use `hf:<author>` (a Hugging Face user or organisation, e.g. `hf:meta-llama`), "
    "`github:<owner>/<repo>` (e.g. `github:huggingface/transformers`) or "
    "`feed:<https URL of an RSS/Atom feed>`."
)

# Hub user/org names: letters, digits, "-", "_", "."; no leading/trailing "-"/".", no "--"/"..".
_HF_AUTHOR = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$")
_GH_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_GH_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A parsed source key: ``kind`` and its ``target`` (author, ``owner/repo`` or URL)."""

    kind: SourceKind
    target: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.target}"

    def __str__(self) -> str:
        return self.key


def _bad(reason: str) -> UserFacingError:
    return UserFacingError(f"Invalid source: {reason}. {SOURCE_HELP}")


def _check_hf_author(author: str) -> str:
    if not _HF_AUTHOR.match(author) or "--" in author or ".." in author:
        raise _bad(
            f"`{author[:60]}` is not a Hugging Face user or organisation name "
            "(letters, digits, `-`, `_`, `.`; at most 96 characters)"
        )
    return author


def _check_github(owner: str, repo: str) -> str:
    if not _GH_OWNER.match(owner) or owner.endswith("-") or "--" in owner:
        raise _bad(f"`{owner[:60]}` is not a GitHub owner name")
    repo = repo.removesuffix(".git")
    if not _GH_REPO.match(repo) or repo in (".", ".."):
        raise _bad(f"`{repo[:60]}` is not a GitHub repository name")
    # GitHub names are case-insensitive: one spelling per repository keeps keys unique.
    return f"{owner.lower()}/{repo.lower()}"


def normalise_feed_url(url: str) -> str:
    """Check the shape of a feed URL and normalise it (lowercase scheme/host, no fragment).

    Only the shape is checked here; whether the host resolves to a public address is
    checked by ``bot.releases.net`` when the URL is validated or fetched.
    """
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise _bad("a feed URL cannot contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _bad(f"`{url[:80]}` is not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _bad("a feed URL must start with `https://` or `http://`")
    if parts.username is not None or parts.password is not None:
        raise _bad("a feed URL cannot contain a user name or password")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise _bad("the feed URL has no host name")
    try:
        ip = ipaddress.ip_address(host)
        host_text = f"[{ip}]" if ip.version == 6 else str(ip)
    except ValueError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _bad(f"`{host[:80]}` is not a valid host name") from None
        if not all(_HOST_LABEL.match(label) for label in host.split(".")):
            raise _bad(f"`{host[:80]}` is not a valid host name") from None
        host_text = host
    netloc = host_text if port is None else f"{host_text}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def _from_url(text: str) -> SourceRef:
    """Shorthands: Hub and GitHub web URLs map to their source kinds, anything else is a feed."""
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if host in ("huggingface.co", "www.huggingface.co", "hf.co") and len(segments) == 1:
        return SourceRef("hf", _check_hf_author(segments[0]))
    if (
        host in ("github.com", "www.github.com")
        and len(segments) >= 2
        and not segments[-1].endswith((".atom", ".rss", ".xml"))
    ):
        return SourceRef("github", _check_github(segments[0], segments[1]))
    return SourceRef("feed", normalise_feed_url(text))


def parse_source_ref(text: str) -> SourceRef:
    """Parse and validate a source as typed by an admin; raise ``UserFacingError`` if invalid.

    Accepted: ``hf:<author>``, ``github:<owner>/<repo>``, ``feed:<url>``, and for
    convenience a bare ``https://huggingface.co/<author>``, ``https://github.com/<o>/<r>``
    or any other ``http(s)`` URL (taken as a feed).
    """
    text = (text or "").strip()
    if not text:
        raise _bad("the source is empty")
    if len(text) > MAX_SOURCE_LENGTH:
        raise _bad(f"it is longer than {MAX_SOURCE_LENGTH} characters")
    prefix, sep, rest = text.partition(":")
    kind = prefix.strip().lower()
    rest = rest.strip()
    if sep and kind in ("http", "https"):
        ref = _from_url(text)
    elif sep and kind in ("hf", "huggingface"):
        ref = SourceRef("hf", _check_hf_author(rest.removeprefix("@")))
    elif sep and kind in ("github", "gh"):
        owner, slash, repo = rest.partition("/")
        if not slash or not owner or not repo or "/" in repo.rstrip("/"):
            raise _bad("a GitHub source is `github:<owner>/<repo>`")
        ref = SourceRef("github", _check_github(owner, repo.rstrip("/")))
    elif sep and kind in ("feed", "rss", "atom"):
        ref = SourceRef("feed", normalise_feed_url(rest))
    else:
        raise _bad(f"unknown source type `{prefix[:20]}`")
    if len(ref.key) > MAX_SOURCE_LENGTH:
        raise _bad(f"it is longer than {MAX_SOURCE_LENGTH} characters")
    return ref


def parse_source(text: str) -> str:
    """The normalised source key (``hf:...``, ``github:owner/repo``, ``feed:https://...``)."""
    return parse_source_ref(text).key
