"""Public-suffix checks from tldextract's bundled snapshot, never from the network."""

from __future__ import annotations

from functools import lru_cache

import tldextract
import tldextract.tldextract as _tld


@lru_cache(maxsize=1)
def offline_extractor() -> tldextract.TLDExtract:
    """A TLDExtract that uses only its bundled snapshot (no fetch, no cache writes)."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def install_offline_extractor() -> None:
    """Point tldextract's module-level extractor (used by Presidio) at the offline one."""
    _tld.TLD_EXTRACTOR = offline_extractor()


@lru_cache(maxsize=65536)
def has_public_suffix(domain: str) -> bool:
    return bool(offline_extractor()(domain).suffix)
