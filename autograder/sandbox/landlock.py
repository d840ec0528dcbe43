"""Landlock: what a sandboxed process may do with files, TCP and signals (step 5 of `launch`).

Standard library only: the launcher and the kernel fork server load it by path, the kit imports
it as ``autograder.sandbox.landlock``.
"""

import ctypes
import os

if __package__:  # imported by the kit (autograder.sandbox.landlock)
    from .linux import LIBC, SandboxError, check
    from .privileges import forbid_new_privileges
else:  # loaded by path: by the launcher, or by the kernel fork server
    from linux import LIBC, SandboxError, check
    from privileges import forbid_new_privileges

SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 16, 32, 64, 128
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK, FS_MAKE_SYM = 256, 512, 1024, 2048, 4096
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2

FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ_RIGHTS = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
WRITE_RIGHTS = (READ_RIGHTS | FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG
                | FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_SYM | FS_REFER | FS_TRUNCATE)
SOCKET_RIGHTS = FS_READ_DIR | FS_MAKE_SOCK | FS_REMOVE_FILE
# Rights each Landlock ABI version knows, so that a ruleset never names a right the kernel lacks.
FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi():
    """The Landlock ABI version of the running kernel; 0 when Landlock is missing or disabled."""
    abi = LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                       ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(abi, 0)


def restrict_with_landlock(read, write, sockets):
    """Allow only `read` (read and execute), `write` (everything) and `sockets` (make unix
    sockets); deny TCP bind and connect (ABI ≥ 4); scope signals and abstract sockets (ABI ≥ 6)."""
    abi = landlock_abi()
    if abi < 1:
        raise SandboxError("Landlock: not available in this kernel (needs Linux 5.13+ with Landlock enabled)")
    handled = FS_RIGHTS_BY_ABI.get(abi, FS_RIGHTS_BY_ABI[5])
    attr = RulesetAttr(handled, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    ruleset = check(LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                                 ctypes.c_uint32(0)), "Landlock: create the ruleset")
    for paths, rights in ((read, READ_RIGHTS), (write, WRITE_RIGHTS), (sockets, SOCKET_RIGHTS)):
        for path in paths:
            if not os.path.exists(path):
                continue
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            allowed = (rights if os.path.isdir(path) else rights & FILE_RIGHTS) & handled
            rule = PathBeneathAttr(allowed, fd)
            check(LIBC.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                               ctypes.byref(rule), ctypes.c_uint32(0)), f"Landlock: allow {path}")
            os.close(fd)
    forbid_new_privileges()
    check(LIBC.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)), "Landlock: restrict")
    os.close(ruleset)
    return abi


