"""The one exception root. Every error a user can cause or fix derives from AuditorError,
and its message says what is wrong and what to do; the CLI prints it as one line."""


class AuditorError(Exception):
    """Root of every error the auditor raises on purpose."""

    exit_code = 2


class ConfigError(AuditorError):
    """The TOML config or a command-line flag is invalid."""


class CheckLoadError(AuditorError):
    """A check module, entry point or declarative check could not be loaded."""


class ReadOnlyViolation(AuditorError):
    """Something tried to call an AWS operation that is not read-only."""


class ReportError(AuditorError):
    """A report file could not be read, parsed or written."""


class DemoUnavailable(AuditorError):
    """`--demo` was asked for without its emulator (moto, the `demo` extra) installed."""


class NothingCollected(AuditorError):
    """The scan could not collect anything at all (no credentials, every call denied)."""

    exit_code = 3
