"""Base error for expected failures: the CLI and jobs print its message as one line."""


class JourneyError(RuntimeError):
    """An expected failure with a message meant for a person (what and where)."""
