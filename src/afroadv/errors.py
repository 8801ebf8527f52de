"""One exception type for bad user input, so the CLI can turn it into exit code 2."""


class AfroadvError(Exception):
    """A problem with the user's input (language, recipe, file, model); the message is one line."""
