"""Errors the command line turns into a one-line message and exit status 2."""


class UsageError(Exception):
    """Bad input: a malformed snapshot, an unknown instance id, an unusable option."""


class DeadlineExceeded(BaseException):
    """``--deadline`` passed. A BaseException, like KeyboardInterrupt, so that no ``except
    Exception`` on the way (botocore's retry loop has some) swallows it."""

    def __init__(self, seconds: float, doing: str = "") -> None:
        super().__init__(f"stopped at the --deadline of {seconds:g} s"
                         + (f" (last done: {doing})" if doing else ""))
