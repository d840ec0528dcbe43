"""The C library the sandbox calls, and how its failures are said.

Standard library only, like every module the launcher loads (`launch`): the launcher and the
kernel fork server load it by path, the kit imports it as ``autograder.sandbox.linux``; no
process holds both.
"""

import ctypes
import os

FAILED = 125  # the exit code of a sandbox whose set-up failed
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long


class SandboxError(Exception):
    """A step of setting up the sandbox failed; the message names the step."""


def check(result, step):
    """`result` of a C call, or `SandboxError` naming `step` and the error where it is negative."""
    if result < 0:
        errno = ctypes.get_errno()
        raise SandboxError(f"{step}: {os.strerror(errno)}")
    return result
