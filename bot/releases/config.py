"""Settings the release radar needs, passed in explicitly (never read from the environment here)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DEFAULT_GITHUB_BASE = "https://github.com"


@dataclass(frozen=True, slots=True)
class RadarConfig:
    """What the radar needs from the bot's settings.

    Build it in ``main`` from the settings object: ``hf_endpoint``/``hf_token`` from
    ``HF_ENDPOINT``/``HF_TOKEN``, ``github_base`` from ``AGORA_GITHUB_BASE``,
    ``poll_seconds`` from ``AGORA_RELEASE_POLL_SECONDS`` and ``allow_private_urls`` from
    ``AGORA_ALLOW_PRIVATE_URLS`` (tests only).
    """

    hf_endpoint: str = DEFAULT_HF_ENDPOINT
    hf_token: str | None = None
    github_base: str = DEFAULT_GITHUB_BASE
    allow_private_urls: bool = False
    poll_seconds: float = 300.0
    #: Time limit of one Hub call (per HTTP request and for the whole worker-thread call).
    hf_timeout: float = 20.0
    #: How many of an author's newest repositories are listed per poll.
    hf_limit: int = 30
    #: Time limit of one feed download, redirects included.
    feed_timeout: float = 20.0
    #: Feed bodies above this size are refused (``SourceError("too_large")``).
    max_feed_bytes: int = 2 * 1024 * 1024
    #: Redirects followed per feed download (each hop is re-checked).
    max_redirects: int = 3
    #: Sources fetched at the same time in one radar cycle.
    concurrency: int = 4
    user_agent: str = "AgoraReleaseRadar/0.1 (+https://github.com/agora-bot)"

    @property
    def hf_endpoint_clean(self) -> str:
        """The Hub endpoint without a trailing slash."""
        return self.hf_endpoint.rstrip("/")

    @property
    def github_base_clean(self) -> str:
        """The GitHub base URL without a trailing slash."""
        return self.github_base.rstrip("/")
