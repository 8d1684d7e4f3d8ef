"""The error family: every expected failure is a JourneyError with a message meant for a person.

Entry points (`journey.runtime.runner.run_main`, the CLI) print a JourneyError as one line and exit 2;
anything else is a bug and keeps its traceback. Each stage's own errors subclass one of these
(IngestError, MappingError, CampaignParamsError, WarehouseError, QualityGateError, ...).
"""


class JourneyError(Exception):
    """An expected failure with a message meant for a person (what and where)."""


class InputError(JourneyError, ValueError):
    """Bad input: a file, row, field, parameter or argument that does not fit its contract."""


class ConfigError(InputError):
    """A setting from the environment that does not parse; the message names the variable."""


class MissingInputError(JourneyError, FileNotFoundError):
    """An input, or an earlier step's output, that is not there; the message says what to run first."""


class DataError(JourneyError, ValueError):
    """Data that cannot support the step asked of it (no rows, a single label class, too short a span)."""
