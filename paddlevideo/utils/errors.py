"""One exception type per kind of user mistake; main.py and the tools print them as one line."""


class PaddleVideoError(Exception):
    """Base class: a mistake in what the user gave us, reported without a traceback."""


class ConfigError(PaddleVideoError):
    """The YAML or a command-line override is wrong."""


class DataError(PaddleVideoError):
    """A data or label file is missing, malformed or does not match the config."""


class CheckpointError(PaddleVideoError):
    """A weights file is missing, unreadable or does not fit the model."""
