"""Privileges: what a kernel gives up before it runs (step 6 of `launch`), and what the kernel
fork server keeps over its execve.

Standard library only: the launcher and the kernel fork server load it by path, the kit imports
it as ``autograder.sandbox.privileges``.
"""

import ctypes
import os

if __package__:  # imported by the kit (autograder.sandbox.privileges)
    from .linux import LIBC, check
else:  # loaded by path: by the launcher, or by the kernel fork server
    from linux import LIBC, check

PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_CLEAR_ALL = 47, 2, 4
CAPABILITY_VERSION_3 = 0x20080522


class CapHeader(ctypes.Structure):  # capset(2)'s header and data (version 3: two 32-bit words)
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def forbid_new_privileges():
    """Set no_new_privs: no execve of this process or its children gains a privilege (a setuid
    program, file capabilities), and Landlock may restrict it."""
    check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _drop_groups():
    """Give up every supplementary group; False where this user namespace forbids setgroups (a
    grader with no mappable ids writes ``setgroups deny``, which an unprivileged gid_map needs)."""
    try:
        os.setgroups([])
        return True
    except PermissionError:
        return False


def _empty_bounding_and_ambient_sets():
    """Empty the bounding set (no execve can give a capability back) and the ambient one; the
    permitted ones stay, for the change of ids that follows."""
    for capability in range(_last_capability() + 1):
        check(LIBC.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "capabilities: drop the bounding set")
    check(LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "capabilities: clear the ambient set")


def _empty_capability_sets():
    """Empty the permitted, effective and inheritable sets."""
    header, data = CapHeader(CAPABILITY_VERSION_3, 0), (CapData * 2)()
    check(LIBC.capset(ctypes.byref(header), data), "capabilities: drop")


def shed_privileges(kernel=None):
    """Become the kernel for good, the same way whether it has an id of its own or not.

    Under no_new_privs, drops the supplementary groups where the user namespace allows, every
    capability set (bounding, ambient, inheritable, permitted, effective: no program it starts
    gets one back, not even as uid 0 inside, and none can make a read-only mount writable again),
    then takes the `kernel` id, if any: with it go the grader's file access and root's exemption
    from RLIMIT_NPROC.

    Parameters
    ----------
    kernel : int, optional
        The id inside the user namespace (`kernel_id`), uid and gid alike; None where the kernel
        keeps the grader's uid.

    Returns
    -------
    bool
        Whether the supplementary groups were dropped.
    """
    forbid_new_privileges()
    dropped = _drop_groups()
    _empty_bounding_and_ambient_sets()  # takes CAP_SETPCAP, which the change of uid ends
    if kernel is not None:
        os.setresgid(kernel, kernel, kernel)
        os.setresuid(kernel, kernel, kernel)
    _empty_capability_sets()
    if kernel is not None:
        # A change of uid makes a process undumpable, which gives its /proc/self files to root;
        # the kernel keeps its own, as when it ran as the grader's uid.
        check(LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")
    return dropped


def _last_capability():
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return 63


def keep_capabilities_over_exec():
    """Keep this process's capabilities (those of its new user namespace) over its next execve,
    as ambient capabilities: a uid other than 0 loses them all there otherwise. The kernel fork server
    of a grader whose kernels keep its uid needs them to set up each kernel's namespaces; each
    kernel drops them for good (`shed_privileges`)."""
    header, data = CapHeader(CAPABILITY_VERSION_3, 0), (CapData * 2)()
    check(LIBC.capget(ctypes.byref(header), data), "capabilities: read")
    for word in data:
        word.inheritable = word.permitted
    check(LIBC.capset(ctypes.byref(header), data), "capabilities: make inheritable")
    for capability in range(_last_capability() + 1):
        if data[capability // 32].permitted >> (capability % 32) & 1:
            check(LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability, 0, 0), "capabilities: make ambient")


