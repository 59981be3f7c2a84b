"""kedb's own exceptions. Only the ``cli`` package turns them into messages and exit codes."""

from __future__ import annotations


class KedbError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with."""

    exit_code = 2


class UsageError(KedbError):
    """The command was asked for something it cannot do (unknown service, bad id...)."""


class EnvironmentProblem(KedbError):
    """The environment is not usable (not a KB repository, git missing, shallow clone...)."""


class FindingsError(KedbError):
    """Input has findings at error level; nothing was written."""

    exit_code = 1
