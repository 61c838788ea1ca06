"""`[pricing]` in the config: validated like every other key, and used by the scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.config import Config, load, parse
from auditor.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "config.example.toml"


def test_pricing_keys() -> None:
    config = parse({"pricing": {"cache": "prices.json", "free_tier": True}})
    assert (config.pricing_cache, config.free_tier) == ("prices.json", True)
    assert (Config().pricing_cache, Config().free_tier) == (None, False)
    example = load(EXAMPLE)
    assert (example.pricing_cache, example.free_tier) == (None, False)
    assert example.thresholds["cost.migration_opportunity"]["min_monthly_savings_usd"] == 20.0


@pytest.mark.parametrize(("raw", "message"), [
    ({"pricing": {"chache": "x"}}, "[pricing]: unknown key 'chache'; did you mean 'cache'?"),
    ({"pricing": {"free_tier": "yes"}}, "free_tier must be true or false, got 'yes'"),
    ({"pricing": "embedded"}, "pricing must be a table, [pricing]"),
])
def test_bad_pricing_values_are_one_clear_line(raw: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as caught:
        parse(raw, "auditor.toml")
    assert message in str(caught.value) and "\n" not in str(caught.value)
