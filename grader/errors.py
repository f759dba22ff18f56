"""Errors the library raises for a user's mistake; the CLI shows each as one line."""


class GraderError(Exception):
    """A problem with the user's input that the user can fix; the message says how."""


class ManifestError(GraderError):
    """assignment.toml is missing or invalid."""


class SubmissionError(GraderError):
    """The submission cannot be read (missing, wrong kind, not a valid notebook...)."""


class AssignmentNotFound(GraderError):
    """No assignment of that name."""
