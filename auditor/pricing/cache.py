"""The local price cache `auditor pricing refresh` writes and later scans read.

One JSON file (format 1):
    {"format": 1, "source": "...", "fetched_at": "2026-11-23T02:00:00Z",
     "regions": {"us-east-1": {"as_of": "2026-11-20", "prices": {"fargate_vcpu_hour": ...},
                               "instances": {"m6i.large": 0.096}, "missing": [...]}}}
`prices` keys are `PriceBook` field names. A scan never fetches prices: it reads this file when
it exists (else uses the embedded prices) and names the file and its date in the report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from auditor.errors import ConfigError
from auditor.files import write_atomic
from auditor.pricing.book import PRICE_KEYS, PriceBook

CACHE_FORMAT = 1
BASE_REGION = "us-east-1"


def default_cache_path() -> Path:
    """`$XDG_CACHE_HOME/compute-auditor/prices.json`, else `~/.cache/compute-auditor/...`."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "compute-auditor" / "prices.json"


def read_cache(path: Path) -> dict[str, Any]:
    """The cache file, validated; a broken file is a config error naming how to fix it."""
    fix = f"run `auditor pricing refresh` again or delete {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"price cache {path} does not exist; run `auditor pricing refresh` "
                          "or drop the setting to use the embedded prices") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"price cache {path} is unreadable ({exc}); {fix}") from None
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        raise ConfigError(f"price cache {path} is not a format-{CACHE_FORMAT} cache; {fix}")
    regions = data.get("regions")
    if not isinstance(regions, dict):
        raise ConfigError(f"price cache {path} has no regions table; {fix}")
    for region, table in regions.items():
        prices = table.get("prices", {}) if isinstance(table, dict) else None
        instances = table.get("instances", {}) if isinstance(table, dict) else None
        if not isinstance(prices, dict) or not isinstance(instances, dict) or not all(
                key in PRICE_KEYS and _number(value) for key, value in prices.items()) or not all(
                _number(value) for value in instances.values()):
            raise ConfigError(f"price cache {path}: region {region} has unknown keys or "
                              f"non-numeric prices; {fix}")
    return data


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value >= 0


def book_from_cache(data: Mapping[str, Any], path: Path) -> PriceBook:
    """The base (us-east-1) book with the cache's prices, carrying every cached region."""
    regions: dict[str, Any] = dict(data["regions"])
    base = PriceBook(
        source=f"AWS Price List API via price cache {path} (fetched "
               f"{data.get('fetched_at', 'at an unknown time')})",
        regional=regions,
    )
    table = regions.get(BASE_REGION)
    if table is None:
        return base
    base = replace(base, as_of=str(table.get("as_of", base.as_of)),
                   instances=dict(table.get("instances", {})))
    return base.with_prices(table.get("prices", {}), record=False)


def load_price_book(path: Path | None = None, *, use_cache: bool = True,
                    free_tier: bool = False) -> PriceBook:
    """The book a scan uses: the cache at `path` (which must exist), else the default cache if
    there is one, else the embedded prices. Never fetches anything."""
    book = PriceBook()
    if use_cache:
        chosen = path or default_cache_path()
        if path is not None or chosen.is_file():
            book = book_from_cache(read_cache(chosen), chosen)
    return replace(book, free_tier=True) if free_tier else book


def write_cache(path: Path, data: Mapping[str, Any]) -> None:
    """Atomically, like a report: readers never see half a cache."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n", "the price cache")
