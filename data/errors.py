"""Exceptions the console catches, importable without loading SQLAlchemy (start-up stays quick)."""


class LoginError(Exception):
    """Wrong or unknown operator, wrong PIN, or a locked operator; the message is shown as it is."""
