"""Secret detection on environment variables: by name and by value shape, never echoing."""

from __future__ import annotations

import pytest

from auditor.secrets import find_secrets, mask


@pytest.mark.parametrize(("name", "value"), [
    ("DB_PASSWORD", "hunter2-demo-secret"),
    ("STRIPE_API_KEY", "abc123abc123"),
    ("GITHUB_TOKEN", "whatever-it-is"),
    ("SOMETHING", "AKIAABCDEFGHIJKLMNOP"),
    ("AWS_SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("UNRELATED", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("DATABASE_URL", "postgres://app:s3cret@db.internal:5432/app"),
    ("TLS", "-----BEGIN RSA PRIVATE KEY-----\nMIIB"),
])
def test_secret_looking_variables_are_found(name: str, value: str) -> None:
    [hint] = find_secrets({name: value})
    assert hint.name == name
    assert value not in hint.masked and value not in hint.reason


@pytest.mark.parametrize(("name", "value"), [
    ("DB_PASSWORD_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"),
    ("SECRET_NAME", "prod/db"),
    ("TOKEN_TTL", "3600"),
    ("AUTH_ENABLED", "true"),
    ("LOG_LEVEL", "info"),
    ("GIT_COMMIT", "3f786850e387550fdab836ed7e6dc881de23001b"),
    ("DATABASE_URL", "postgres://db.internal:5432/app"),
    ("API_KEY", "{{resolve:secretsmanager:prod/key}}"),
])
def test_pointers_and_plain_settings_are_not_secrets(name: str, value: str) -> None:
    assert find_secrets({name: value}) == []


def test_mask_keeps_only_the_length() -> None:
    assert mask("hunter2") == "******* (7 chars)"
