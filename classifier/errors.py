"""Exit codes and the one error type the CLI turns into a one-line message.

Every command documents these codes in its help and the README lists them.
"""

EXIT_OK = 0
#: Some input (a file, a row) could not be read; the rest was processed.
EXIT_INPUT = 1
#: Bad command-line usage (unknown option, missing argument) -- click's own code.
EXIT_USAGE = 2
#: The model could not be loaded: missing, tampered, or built by an incompatible scikit-learn.
EXIT_MODEL = 3
#: `score --fail-on`: at least one comment reached the given decision.
EXIT_GATE = 4
#: The queue database is locked, corrupted or of an unknown schema.
EXIT_STORE = 5
#: A bug: an unexpected error inside the tool (one line; CLASSIFIER_DEBUG=1 shows the traceback).
EXIT_INTERNAL = 70


class ClassifierError(Exception):
    """An expected failure with a one-line, user-facing message and an exit code."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(ClassifierError):
    """A file or row that cannot be read or parsed."""

    exit_code = EXIT_INPUT


class ModelError(ClassifierError):
    """A model artefact that is missing, tampered or incompatible."""

    exit_code = EXIT_MODEL


class StoreError(ClassifierError):
    """A queue database that is locked, corrupted or unknown."""

    exit_code = EXIT_STORE
