"""Start a program inside the grading sandbox: ``python -I -S launch.py SPEC.json -- PROGRAM ARG…``.

Standard library only, so it runs before anything of the kit could be imported by the program.
What it does, in order (each step's failure ends it with exit code 125 and says which step):

0. starts itself again with an empty environment, and arranges to die with its parent; says on
   stderr, in one line, what protection its kernels lack where they keep the grader's uid
   (`protection_warning`);
1. puts itself in a pids cgroup of its own (`join_pids_cgroup`: the cgroup v1 pids controller
   where it is writable, else the grader's cgroup v2 group where it is really delegated to the
   grader (`cgroup_v2_delegated`); none when the spec says ``"cgroups": false``);
2. enters new user, mount, pid, network, IPC and UTS namespaces: no network at all, no view of
   other processes, and no privilege over the machine. Besides the grader's own ids (inside 0,
   for the set-up), it maps kernel ids that no account, group or other user's range uses: a root
   grader `KERNEL_ID_BASE` and up (in a container that maps too few, a free stretch of those it
   maps), any other grader its subordinate ids from /etc/subuid and /etc/subgid, through
   newuidmap and newgidmap (`kernel_ids`). Without, it maps the grader's own uid only
   (`enter_namespaces`);
3. forks the pid namespace's first process, which the kernel makes take every process of the
   namespace with it when it ends (setsid and double fork included); it dies with this process;
4. there: hides the spec's folders under empty read-only tmpfs, then moves into a new root made
   only of what the program needs (`enter_new_root`: the spec's read paths bound read-only,
   its writable paths and socket folders, a size-capped tmpfs work folder filled with the
   spec's files, a private /proc) and detaches the host's, so that no other path (no other
   unix socket) exists for it; and sets the rlimits (`prepare_filesystem`);
5. restricts itself with Landlock (filesystem: read the listed paths, write the work folder,
   make sockets in the socket folders; TCP bind and connect denied; signals and abstract unix
   sockets scoped to the sandbox) under no_new_privs;
6. forks the program, which takes its kernel id where one is mapped (`shed_privileges`: a uid
   and gid of its own, no capability, so file permissions and RLIMIT_NPROC bind it whoever the
   grader is) or else gives up every capability (`shed_privileges`), with an environment made
   only of the spec's variables; relays SIGINT and SIGTERM to it, and exits with its status.

Processes are bounded twice (`process_bound` says how, here). The pids cgroup, where there is
one, caps the whole sandbox. RLIMIT_NPROC (the spec's ``processes`` too) binds every uid but
root's, and Linux (5.14 and later) counts it per user namespace and uid: a kernel with an id of
its own has a count of its own (a cold kernel in its own namespace, a warm one under its own uid
in the warm process's), which no other kernel and not the warm process can use up. Where no
kernel id is mapped, the kernel keeps the grader's uid: a cold kernel still has a count of its
own, but the warm kernels of one warm process share theirs with it.

With ``-- zygote`` instead of a program it does steps 0 to 2 only (no pid namespace) and becomes
the warm-kernel process of `zygote`, which runs steps 2 to 6 for every kernel it forks, with a
kernel started in-process instead of a program.
"""

import ctypes
import errno
import json
import os
import shutil
import signal
import socket
import struct
import sys

FAILED = 125

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_CLEAR_ALL = 47, 2, 4
CAPABILITY_VERSION_3 = 0x20080522
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 1

# The uid and gid a kernel has, seen from outside, where the grader is root: KERNEL_ID_BASE plus
# the pid of its sandbox's outermost process (the launcher, or the warm process's fork), so that
# no two live kernels share one, and each has a process count (RLIMIT_NPROC) of its own. The
# range lies above the ids systemd gives containers (524288 to 1879048191) and below 2^31, where
# no account or subordinate-id range is normally made; its kernel ids own no file outside. (Where
# the grader's namespace lacks them or one is taken, `kernel_ids` takes a free stretch instead.)
KERNEL_ID_BASE = 0x70000000
PID_LIMIT = 1 << 22  # Linux's highest pid_max (PID_MAX_LIMIT on 64-bit): every pid maps
# Where the grader is not root, the kernel ids come from the grader's subordinate ranges in
# these files, mapped by shadow's setuid helpers (Debian's package uidmap), as rootless
# container tools do. Only these folders are searched: the launcher runs with an empty PATH.
SUBUID, SUBGID = "/etc/subuid", "/etc/subgid"
MIN_KERNEL_IDS = 1024  # fewer free ids than this: a grader's kernels keep its uid (`protection_warning`)
ID_HELPER_FOLDERS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin")
KERNEL_UMASK = 0o007  # a non-root grader reaches a kernel's sockets through their group (`let_in`)

PROCESSES = 64  # the most processes and threads alive at once in one sandbox, unless the spec says
V1_PIDS = "/sys/fs/cgroup/pids"
SANDBOX_GROUPS = "autograder"  # the cgroup holding one pids group per sandbox
V2_GRADER_LEAF = "autograder-grader"  # where the processes of a delegated cgroup v2 group move

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

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long


class SandboxError(Exception):
    """A step of setting up the sandbox failed; the message names the step."""


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class MountAttr(ctypes.Structure):  # mount_setattr(2)'s struct mount_attr
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


class CapHeader(ctypes.Structure):  # capset(2)'s header and data (version 3: two 32-bit words)
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def reap_children(_signum=None, _frame=None):
    """Collect every child that has ended, without waiting (a SIGCHLD handler)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def peer_pid(connection):
    """The pid of the process at the other end of the unix socket `connection` (SO_PEERCRED)."""
    pid, _uid, _gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                                struct.calcsize("3i")))
    return pid


def _check(result, step):
    if result < 0:
        errno = ctypes.get_errno()
        raise SandboxError(f"{step}: {os.strerror(errno)}")
    return result


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
    ruleset = _check(LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                                  ctypes.c_uint32(0)), "Landlock: create the ruleset")
    for paths, rights in ((read, READ_RIGHTS), (write, WRITE_RIGHTS), (sockets, SOCKET_RIGHTS)):
        for path in paths:
            if not os.path.exists(path):
                continue
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            allowed = (rights if os.path.isdir(path) else rights & FILE_RIGHTS) & handled
            rule = PathBeneathAttr(allowed, fd)
            _check(LIBC.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                                ctypes.byref(rule), ctypes.c_uint32(0)), f"Landlock: allow {path}")
            os.close(fd)
    _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(LIBC.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)), "Landlock: restrict")
    os.close(ruleset)
    return abi


def _mount(source, target, fstype, flags, data):
    _check(LIBC.mount(source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
                      ctypes.c_ulong(flags), data.encode() if data else None), f"mount {fstype or source} on {target}")


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def _words(path):
    """The words of a small file (a cgroup's controller list, its processes); none if unreadable."""
    try:
        with open(path) as handle:
            return handle.read().split()
    except OSError:
        return []


def own_cgroup_v2():
    """The folder of this process's cgroup v2 group (its ``0::`` line in /proc/self/cgroup,
    under the cgroup2 mount that holds it), or None."""
    try:
        with open("/proc/self/cgroup") as handle:
            path = next((line[3:].strip() for line in handle if line.startswith("0::")), None)
        with open("/proc/self/mountinfo") as handle:
            mounts = [line.split() for line in handle]
    except OSError:
        return None
    for fields in mounts if path else []:
        if "-" in fields and fields[fields.index("-") + 1] == "cgroup2":
            root, point = fields[3].rstrip("/"), fields[4]
            if path == root or path.startswith(root + "/"):
                return os.path.normpath(os.path.join(point, path[len(root):].lstrip("/")))
    return None


def _grader_group(group):
    """The cgroup v2 group of the grader that `group` lies in: above the leaf its processes were
    moved to, and above a sandbox's pids group (where a warm kernel's fork starts)."""
    while True:
        parent, name = os.path.split(group)
        if name == V2_GRADER_LEAF:
            group = parent
        elif name.startswith("sandbox-") and os.path.basename(parent) == SANDBOX_GROUPS:
            group = os.path.dirname(parent)
        else:
            return group


def _maps_to_host_root(uid):
    """Whether `uid` of this process's user namespace is root outside it (its uid_map sends it to 0)."""
    try:
        ranges = _mapped_ranges("uid_map")
    except OSError:
        return uid == 0
    return any(inside <= uid < inside + count and outside + uid - inside == 0 for inside, outside, count in ranges)


def _delegate_mark(folder):
    """Whether systemd marked the cgroup `folder` delegated (Delegate=yes sets ``trusted.delegate``
    to 1, and ``user.delegate`` too, which a process without CAP_SYS_ADMIN can read)."""
    for name in ("trusted.delegate", "user.delegate"):
        try:
            if os.getxattr(folder, name).strip() == b"1":
                return True
        except OSError:
            continue
    return False


def cgroup_v2_delegated(folder):
    """Whether the cgroup v2 group `folder` is delegated to this process's effective uid.

    The kernel's cgroup v2 documentation ("Delegation") delegates a group to a user by giving it
    the group's folder and the folder's ``cgroup.procs``, ``cgroup.subtree_control`` and
    ``cgroup.threads``; systemd's ``Delegate=yes`` also marks the folder (``trusted.delegate``,
    ``user.delegate``). Root owns every group nobody delegated (the root group, systemd's
    slices), so for a uid that is root outside its namespace only the mark counts: its
    ownership says nothing. Write access is not delegation.

    Parameters
    ----------
    folder : str
        The group's folder under a cgroup2 mount.

    Returns
    -------
    bool
        True where the group is marked delegated, or where this uid owns the folder and its
        three files and is not the host's root.
    """
    if _delegate_mark(folder):
        return True
    uid = os.geteuid()
    if _maps_to_host_root(uid):
        return False
    files = [folder] + [os.path.join(folder, name) for name in ("cgroup.procs", "cgroup.subtree_control")]
    threads = os.path.join(folder, "cgroup.threads")
    try:
        owners = [os.stat(path).st_uid for path in files + ([threads] if os.path.exists(threads) else [])]
    except OSError:
        return False
    return all(owner == uid for owner in owners)


def locate_sandbox_groups():
    """Where sandboxes' pids cgroups go, or why there are none.

    ``autograder`` in the cgroup v1 pids controller where it is writable (root), else in the
    grader's own cgroup v2 group where that group is delegated to the grader
    (`cgroup_v2_delegated`), the grader may write it and it has the pids controller. A process
    already in a group the kit made there (a warm kernel's fork, the grader's leaf) is in a
    subtree a launcher found delegated (and a user namespace hides ``trusted.*`` marks). Only
    locates it.

    Returns
    -------
    home : str or None
        The cgroup folder holding one pids group per sandbox.
    why_not : str or None
        Where `home` is None, why (for `process_bound`).
    """
    if os.access(V1_PIDS, os.W_OK):
        return os.path.join(V1_PIDS, SANDBOX_GROUPS), None
    own = own_cgroup_v2()
    if own is None:
        return None, "no cgroup v2 group and no writable cgroup v1 pids controller"
    base = _grader_group(own)
    if base == own and not cgroup_v2_delegated(base):
        return None, f"the cgroup v2 group {base} is not delegated to uid {os.geteuid()}"
    if not all(os.access(os.path.join(base, name), os.W_OK) for name in ("cgroup.procs", "cgroup.subtree_control")):
        return None, f"the cgroup v2 group {base} is not writable"
    if "pids" not in _words(os.path.join(base, "cgroup.controllers")):
        return None, f"the cgroup v2 group {base} has no pids controller"
    return os.path.join(base, SANDBOX_GROUPS), None


def sandbox_groups_home():
    """The cgroup that holds one pids group per sandbox, or None (see `locate_sandbox_groups`)."""
    return locate_sandbox_groups()[0]


_homes = {}  # this process's `sandbox_groups_home`, found once (`pids_group`)


def pids_group(pid):
    """The pids cgroup folder of a sandbox, where sandboxes get one.

    Parameters
    ----------
    pid : int
        The pid of the sandbox's outermost process.

    Returns
    -------
    str or None
        ``<home>/sandbox-PID``; the home is looked up once per process.
    """
    if "home" not in _homes:
        _homes["home"] = sandbox_groups_home()
    home = _homes["home"]
    return os.path.join(home, f"sandbox-{pid}") if home else None


def process_bound(cgroups=True):
    """Say, in one line, what caps the processes of a sandbox started from here.

    Parameters
    ----------
    cgroups : bool
        Whether sandboxes may make pids cgroups (the spec's ``"cgroups"``).

    Returns
    -------
    str
        The pids cgroup where there is one (or why there is none), and RLIMIT_NPROC with the
        uid it binds.
    """
    home, why_not = locate_sandbox_groups() if cgroups else (None, "cgroups are turned off")
    if kernel_ids_mappable():
        rlimit = "RLIMIT_NPROC on the kernel's own uid"
    else:
        rlimit = "RLIMIT_NPROC on the grader's uid (shared by the warm kernels of one warm process)"
    if home:
        return f"a pids cgroup per sandbox in {home}, and {rlimit}"
    return f"{rlimit} alone ({why_not})"


def _enable_pids(folder):
    """Give the cgroup v2 group `folder`'s children the pids controller. cgroup v2 refuses that
    to a group holding processes (but the root), so they move to a leaf group of their own first
    (`V2_GRADER_LEAF`: the grader's processes, in the subtree delegated to it)."""
    control = os.path.join(folder, "cgroup.subtree_control")
    if "pids" in _words(control):
        return
    try:
        return _write(control, "+pids")
    except OSError as error:
        if error.errno != errno.EBUSY:
            raise
    leaf = os.path.join(folder, V2_GRADER_LEAF)
    os.makedirs(leaf, exist_ok=True)
    for pid in _words(os.path.join(folder, "cgroup.procs")):
        try:
            _write(os.path.join(leaf, "cgroup.procs"), pid)
        except OSError:
            pass  # it ended meanwhile
    _write(control, "+pids")


def _prepare_home(home):
    """Make the sandboxes' cgroup `home` and clear the groups of sandboxes killed before they
    could remove theirs."""
    if not home.startswith(V1_PIDS + "/"):  # cgroup v2: controllers are given from parent to child
        _enable_pids(os.path.dirname(home))
    os.makedirs(home, exist_ok=True)
    if not home.startswith(V1_PIDS + "/"):
        _enable_pids(home)
    for stale in os.listdir(home):
        if os.path.isdir(os.path.join(home, stale)):
            try:
                os.rmdir(os.path.join(home, stale))
            except OSError:
                pass


def join_pids_cgroup(spec):
    """Put this process in a fresh pids cgroup capped at the spec's ``processes``; the group's
    folder, or None where the spec says ``"cgroups": false`` or none can be had (then
    RLIMIT_NPROC, which binds the kernel's own uid, is the bound)."""
    home = sandbox_groups_home() if spec.get("cgroups", True) else None
    if home is None:
        return None
    try:
        _prepare_home(home)
    except OSError:
        return None
    group = os.path.join(home, f"sandbox-{os.getpid()}")
    for _attempt in range(3):  # another sandbox's sweep may remove the group before this one joins it
        try:
            os.makedirs(group, exist_ok=True)
            _write(os.path.join(group, "pids.max"), str(spec.get("processes", PROCESSES)))
            _write(os.path.join(group, "cgroup.procs"), str(os.getpid()))
            return group
        except OSError:
            continue
    return None


def leave_cgroup(group):
    """Move this process back where it came from (the grader's leaf group under cgroup v2, the
    root under v1) and remove its pids `group`."""
    if group:
        parent = os.path.dirname(os.path.dirname(group))
        leaf = os.path.join(parent, V2_GRADER_LEAF)
        try:
            _write(os.path.join(leaf if os.path.isdir(leaf) else parent, "cgroup.procs"), str(os.getpid()))
            os.rmdir(group)
        except OSError:
            pass


# The cgroup namespace, entered once the sandbox is in its pids group, makes that group its root:
# the kernel's /proc/self/cgroup names no path of the grader's.
ALL_NAMESPACES = (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
                  | CLONE_NEWCGROUP)


def _mapped_ranges(name):
    """The (inside, outside, count) ranges of this process's /proc/self/`name` (uid_map or gid_map)."""
    with open(f"/proc/self/{name}") as handle:
        return [tuple(int(field) for field in line.split()) for line in handle if line.strip()]


class KernelIds:
    """The ids kernels take, seen from the grader's user namespace (`kernel_ids`): `count` uids
    from `uid_start` and as many gids from `gid_start`; `helpers` are newuidmap and newgidmap
    where the grader is not root (they map its subordinate ranges), None for root (which writes
    the maps itself)."""

    def __init__(self, uid_start, gid_start, count, helpers=None):
        self.uid_start, self.gid_start, self.count, self.helpers = uid_start, gid_start, count, helpers


def _id_helper(name):
    for folder in ID_HELPER_FOLDERS:
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _lines(path):
    """The ``:``-separated fields of each line of `path` (/etc/passwd, /etc/subuid, ...); none if unreadable."""
    try:
        with open(path) as handle:
            return [line.strip().split(":") for line in handle if line.strip() and not line.startswith("#")]
    except OSError:
        return []


def _account_ids(kind):
    """Every uid (`kind` "uid") or gid ("gid") that an account or a group has (through NSS:
    /etc/passwd and /etc/group, and a directory where the system enumerates one), as ranges of one."""
    import grp
    import pwd
    if kind == "uid":
        return [(entry.pw_uid, 1) for entry in pwd.getpwall()]
    return [(entry.pw_gid, 1) for entry in pwd.getpwall()] + [(entry.gr_gid, 1) for entry in grp.getgrall()]


def _subordinate_ranges(kind):
    """[(owner, start, count)] of /etc/subuid (`kind` "uid") or /etc/subgid ("gid")."""
    found = []
    for fields in _lines(SUBUID if kind == "uid" else SUBGID):
        if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
            found.append((fields[0], int(fields[1]), int(fields[2])))
    return found


def _free_stretches(ranges, taken):
    """The parts of `ranges` ([(start, count)]) that no range of `taken` overlaps."""
    pieces = []
    for start, count in ranges:
        at, end = start, start + count
        for cut, length in sorted(taken):
            if cut < end and cut + length > at:
                if cut > at:
                    pieces.append((at, cut - at))
                at = max(at, cut + length)
        if at < end:
            pieces.append((at, end - at))
    return pieces


def _within(ranges, bounds):
    """The parts of `ranges` that lie inside one of `bounds` (both [(start, count)])."""
    return [(max(s, b), min(s + c, b + n) - max(s, b)) for s, c in ranges for b, n in bounds
            if max(s, b) < min(s + c, b + n)]


def _free_kernel_ids(kind, allowed, others, own_id):
    """The largest stretch (start, count) of `allowed` that exists in this user namespace (its
    uid_map or gid_map) and holds no account's or group's id, no range of `others` (other users'
    subordinate ranges), neither 0, the overflow ids 65534 and 65535, nor `own_id`; capped at
    ``PID_LIMIT - 1``. None if it has fewer than `MIN_KERNEL_IDS`."""
    mapped = [(inside, count) for inside, _outside, count in _mapped_ranges(f"{kind}_map")]
    taken = _account_ids(kind) + list(others) + [(0, 1), (65534, 2), (own_id, 1)]
    free = _free_stretches(_within(allowed, mapped), taken)
    start, count = max(free, key=lambda piece: piece[1], default=(0, 0))
    return (start, min(count, PID_LIMIT - 1)) if count >= MIN_KERNEL_IDS else None


def _root_kernel_ids():
    """(`KernelIds`, None) for a root grader, or (None, why none): `KERNEL_ID_BASE` + 1 and up
    where all of them are free, else the largest free stretch of the ids this namespace maps (a
    container's 65,536, say)."""
    wanted = [(KERNEL_ID_BASE + 1, PID_LIMIT - 1)]
    stretches = []
    for kind in ("uid", "gid"):
        others = [(start, count) for _owner, start, count in _subordinate_ranges(kind)]
        found = _free_kernel_ids(kind, wanted, others, 0)
        if found != wanted[0]:
            everything = [(inside, count) for inside, _outside, count in _mapped_ranges(f"{kind}_map")]
            found = _free_kernel_ids(kind, everything, others, 0)
        if found is None:
            return None, (f"this container maps no {MIN_KERNEL_IDS} {kind}s that no account, group or "
                          f"subordinate range in {SUBUID} or {SUBGID} uses")
        stretches.append(found)
    (uids, uid_count), (gids, gid_count) = stretches
    return KernelIds(uids, gids, min(uid_count, gid_count)), None


def _subordinate_kernel_ids():
    """(`KernelIds`, None) for a grader that is not root, or (None, what is missing and how to get it)."""
    import pwd
    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid)
    except KeyError:
        return None, f"uid {uid} has no account (newuidmap maps only an account's ranges)"
    name, helpers = user.pw_name, (_id_helper("newuidmap"), _id_helper("newgidmap"))
    owners = {name, str(uid)}
    give = f"a free range, e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {name}"
    stretches = []
    for kind, own_id in (("uid", uid), ("gid", gid)):
        ranges = _subordinate_ranges(kind)
        own = [(start, count) for owner, start, count in ranges if owner in owners]
        others = [(start, count) for owner, start, count in ranges if owner not in owners]
        stretches.append(_free_kernel_ids(kind, own, others, own_id) if own else None)
    if None in helpers:
        return None, "newuidmap and newgidmap are missing: apt install uidmap" + (
            "" if None not in stretches else f", and give {name} a range in {SUBUID} and {SUBGID} ({give})")
    if None in stretches:
        return None, (f"{name} has no range in {SUBUID} and {SUBGID} with {MIN_KERNEL_IDS} ids that no "
                      f"account, group or other user's range uses: {give}")
    if (os.geteuid(), os.getegid()) != (uid, gid) or user.pw_gid != gid:
        return None, f"the grader does not run as {name} with its primary group (newgidmap maps only that one)"
    if _no_new_privs():
        return None, "the grader runs under no_new_privs, which makes newuidmap powerless: start it without"
    (uids, uid_count), (gids, gid_count) = stretches
    return KernelIds(uids, gids, min(uid_count, gid_count), helpers), None


def _no_new_privs():
    """Whether this process runs under no_new_privs (setuid helpers then gain nothing)."""
    try:
        with open("/proc/self/status") as handle:
            return any(line.split() == ["NoNewPrivs:", "1"] for line in handle)
    except OSError:
        return False


def _kernel_ids_or_why():
    if os.geteuid() == 0 and os.getegid() == 0:
        return _root_kernel_ids()
    return _subordinate_kernel_ids()


def kernel_ids():
    """The ids this process's kernels take, where it has ids to give them.

    Each kernel takes one id (uid and gid alike) of a stretch that exists in the grader's user
    namespace and that no account, group or other user's subordinate range uses (files of
    theirs stay closed to it), never 0 nor the grader's own. A root grader takes
    ``KERNEL_ID_BASE + 1`` and up (a kernel's uid is then ``KERNEL_ID_BASE`` plus its leader's
    pid), or, in a container that maps too few ids for that, the largest free stretch of those it
    maps. Any other grader takes, as rootless container tools do, its subordinate ranges in
    ``/etc/subuid`` and ``/etc/subgid`` (by name or uid; their largest free stretch), mapped by
    shadow's setuid ``newuidmap`` and ``newgidmap`` (Debian's package ``uidmap``).

    Returns
    -------
    KernelIds or None
        None where no such stretch of `MIN_KERNEL_IDS` ids exists, or, for a grader that is not
        root, where a helper is missing, where its gid is not its user's primary group (newgidmap
        maps only that one) or it runs under no_new_privs; `protection_warning` says which.
    """
    return _kernel_ids_or_why()[0]


def kernel_ids_mappable():
    """Whether this process can give a new user namespace kernel ids of their own (`kernel_ids`).

    Returns
    -------
    bool
    """
    return kernel_ids() is not None


def protection_warning():
    """The one-line warning for a grader whose kernels keep its uid, or None where they do not.

    Returns
    -------
    str or None
        Which protection the kernels lack, why, and how to get it.
    """
    ids, why = _kernel_ids_or_why()
    if ids is not None:
        return None
    return ("kernels keep the grader's uid, so only Landlock keeps them from the grader's files (the "
            "filesystem outside their folders is read-only for them, so they cannot change those files). "
            f"For kernel uids of their own: {why}")


def _kernel_range(name):
    """(inside start, count) of the kernel ids in this user namespace's `name` map: the range
    from inside 1, beside the grader's own id at inside 0; None where there is none."""
    ranges = _mapped_ranges(name)
    if not any(inside == 0 and count == 1 for inside, _outside, count in ranges):
        return None
    return next(((inside, count) for inside, _outside, count in ranges if inside == 1), None)


def kernel_id():
    """The id (uid and gid, inside the user namespace) a kernel started by this process takes.

    ``1 + (pid - 1) % N`` for this process's pid and the N kernel ids mapped: the pid itself for
    a root grader (``KERNEL_ID_BASE + pid`` outside); for a subordinate range of N ids (65,536
    by default) the id ``start + (pid - 1) % N`` outside, which two live kernels share only when
    their pids differ by a multiple of N.

    Returns
    -------
    int or None
        None where no kernel ids are mapped (the kernel keeps the grader's uid).
    """
    ranges = [_kernel_range(name) for name in ("uid_map", "gid_map")]
    if None in ranges:
        return None
    return 1 + (os.getpid() - 1) % min(count for _start, count in ranges)


def _grader_is_root():
    """Whether this user namespace's 0 is root outside (the grader is root)."""
    return any(inside == 0 and outside == 0 for inside, outside, _count in _mapped_ranges("uid_map"))


def _map_writer(target, write):
    """Fork a process that stays in this user namespace and, once told through the pipe whose
    write end is returned, calls ``write(target)`` to write the id maps of the process `target`.
    Mapping ids other than one's own takes CAP_SETUID and CAP_SETGID in the parent namespace
    (root), or newuidmap and newgidmap: the new namespace cannot write them for itself."""
    told, tell = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = FAILED
        try:
            os.close(tell)
            if os.read(told, 1) == b"1":
                write(target)
                code = 0
        finally:
            os._exit(code)
    os.close(told)
    return pid, tell


def _write_maps(target, maps):
    for name, text in maps:
        fd = os.open(f"/proc/{target}/{name}", os.O_WRONLY)
        os.write(fd, text.encode())  # a map is taken in one write
        os.close(fd)


def _run_id_helpers(target, ids):
    """Map, with newuidmap and newgidmap, the grader's own ids to 0 and the kernel ids from 1 in
    the user namespace of `target`."""
    import subprocess
    for helper, own, start in zip(ids.helpers, (os.getuid(), os.getgid()), (ids.uid_start, ids.gid_start)):
        done = subprocess.run([helper, str(target), "0", str(own), "1", "1", str(start), str(ids.count)],
                              env={}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            raise SystemExit(FAILED)


def _write_own_maps(maps):
    for name, text in maps:
        try:
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
        except OSError as error:
            raise SandboxError(f"namespaces: write {name}: {error.strerror}") from None


def id_maps(ids=None):
    """The maps a root grader writes for a new user namespace, or any grader for one where it
    maps only its own ids.

    Parameters
    ----------
    ids : KernelIds, optional
        The kernel ids of a root grader (`kernel_ids`), mapped from inside 1, root to itself at 0.
        (A grader that is not root maps its kernel ids with newuidmap instead, `enter_namespaces`.)

    Returns
    -------
    list of (str, str)
        (file name in /proc/PID, text) in the order they are written.
    """
    uid, gid = os.getuid(), os.getgid()
    if ids is None:
        return [("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")]
    # setgroups stays allowed: a kernel must drop root's supplementary groups (`shed_privileges`).
    return [("uid_map", f"0 0 1\n1 {ids.uid_start} {ids.count}\n"), ("gid_map", f"0 0 1\n1 {ids.gid_start} {ids.count}\n")]


def enter_namespaces(flags=ALL_NAMESPACES, ids=None):
    """Unshare the namespaces in `flags`, and map ids in a new user namespace.

    Parameters
    ----------
    flags : int
        CLONE_NEW* flags.
    ids : KernelIds, optional
        Map these kernel ids too (`kernel_ids`), from inside 1; the grader's own ids are inside
        0. Without, a new user namespace maps this process's own uid and gid only.

    Raises
    ------
    SandboxError
        When a namespace could not be made or the ids not mapped.
    """
    new_user = bool(flags & CLONE_NEWUSER)
    helpers = new_user and ids is not None and ids.helpers is not None
    maps = id_maps(ids) if new_user and not helpers else []
    writer = tell = None
    if helpers:
        writer, tell = _map_writer(os.getpid(), lambda target: _run_id_helpers(target, ids))
    elif new_user and ids is not None:
        writer, tell = _map_writer(os.getpid(), lambda target: _write_maps(target, maps))
    try:
        _check(LIBC.unshare(flags), "namespaces: unshare " + ", ".join(
            name for bit, name in ((CLONE_NEWUSER, "user"), (CLONE_NEWNS, "mount"), (CLONE_NEWPID, "pid"),
                                   (CLONE_NEWNET, "network"), (CLONE_NEWIPC, "IPC"), (CLONE_NEWUTS, "UTS"),
                                   (CLONE_NEWCGROUP, "cgroup"))
            if flags & bit))
        if writer is not None:
            os.write(tell, b"1")
    finally:
        if writer is not None:
            os.close(tell)
            _, status = os.waitpid(writer, 0)
    if writer is not None and status != 0:
        raise SandboxError("namespaces: the kernel ids could not be mapped" + (
            f" (newuidmap and newgidmap refused the ranges in {SUBUID} and {SUBGID})" if helpers else ""))
    if writer is None and maps:
        _write_own_maps(maps)


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
        _check(LIBC.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "capabilities: drop the bounding set")
    _check(LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "capabilities: clear the ambient set")


def _empty_capability_sets():
    """Empty the permitted, effective and inheritable sets."""
    header, data = CapHeader(CAPABILITY_VERSION_3, 0), (CapData * 2)()
    _check(LIBC.capset(ctypes.byref(header), data), "capabilities: drop")


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
    _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    dropped = _drop_groups()
    _empty_bounding_and_ambient_sets()  # takes CAP_SETPCAP, which the change of uid ends
    if kernel is not None:
        os.setresgid(kernel, kernel, kernel)
        os.setresuid(kernel, kernel, kernel)
    _empty_capability_sets()
    if kernel is not None:
        # A change of uid makes a process undumpable, which gives its /proc/self files to root;
        # the kernel keeps its own, as when it ran as the grader's uid.
        _check(LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")
    return dropped


def _last_capability():
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return 63


def keep_capabilities_over_exec():
    """Keep this process's capabilities (those of its new user namespace) over its next execve,
    as ambient capabilities: a uid other than 0 loses them all there otherwise. The warm process
    of a grader whose kernels keep its uid needs them to set up each kernel's namespaces; each
    kernel drops them for good (`shed_privileges`)."""
    header, data = CapHeader(CAPABILITY_VERSION_3, 0), (CapData * 2)()
    _check(LIBC.capget(ctypes.byref(header), data), "capabilities: read")
    for word in data:
        word.inheritable = word.permitted
    _check(LIBC.capset(ctypes.byref(header), data), "capabilities: make inheritable")
    for capability in range(_last_capability() + 1):
        if data[capability // 32].permitted >> (capability % 32) & 1:
            _check(LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability, 0, 0), "capabilities: make ambient")


def _make_mount_point(path, is_folder):
    """Make `path` (on a fresh tmpfs) and the folders above it, passable for everyone."""
    if os.path.lexists(path):  # already there: a folder made for another path, or a bound one's
        return
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        _make_mount_point(parent, True)
    if is_folder:
        os.mkdir(path)
    else:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
    os.chmod(path, 0o755 if is_folder else 0o644)


def give_to(kernel, folders, group=None, mode=None):
    """Make `kernel` own each folder of `folders` and everything in it (the work folder, which
    holds the copied files, and the socket folders, where it makes its sockets).

    Parameters
    ----------
    kernel : int
        The kernel's id inside the user namespace.
    folders : list of str
    group : int, optional
        The group they get, the kernel's own by default.
    mode : int, optional
        The mode each folder gets (its contents keep theirs).
    """
    group = kernel if group is None else group
    for folder in folders:
        os.chown(folder, kernel, group)
        if mode is not None:
            os.chmod(folder, mode)
        for parent, names, files in os.walk(folder):
            for name in names + files:
                os.lchown(os.path.join(parent, name), kernel, group)


def _set_read_only(path, read_only=True, recursive=False):
    """Make the mount at `path` (and with `recursive` every mount under it) read-only, or
    writable again. Only that flag changes (mount_setattr), so mounts whose other flags a user
    namespace has locked take it too; a mount that was locked read-only stays so."""
    attr = MountAttr(MOUNT_ATTR_RDONLY if read_only else 0, 0 if read_only else MOUNT_ATTR_RDONLY, 0, 0)
    _check(LIBC.syscall(SYS_MOUNT_SETATTR, ctypes.c_int(AT_FDCWD), path.encode(),
                        ctypes.c_uint(AT_RECURSIVE if recursive else 0), ctypes.byref(attr),
                        ctypes.c_size_t(ctypes.sizeof(attr))),
           f"make {path} {'read-only' if read_only else 'writable'}")


SYS_PIVOT_ROOT, MNT_DETACH = 155, 2
OLD_ROOT = "/.old-root"  # where the host's root hangs in the new root while it is being filled
NEW_ROOT_OPTIONS = "size=1m,nr_inodes=4096,mode=0755"  # only folders, links and mount points


def _links_on_the_way(path, depth=0):
    """(link, what it says) for every symbolic link met while resolving `path` on the host, the
    links in their targets included: the new root holds them too, so `path` resolves there as here."""
    found, current = [], "/"
    for part in path.strip("/").split("/"):
        step = os.path.join(current, part)
        if depth < 40 and os.path.islink(step):
            target = os.readlink(step)
            found.append((step, target))
            found += _links_on_the_way(os.path.join(current, target), depth + 1)
            step = os.path.realpath(step)
        current = step
    return found


def _outermost(paths):
    """`paths`, each once, without those inside another of them (a recursive bind brings them)."""
    paths = sorted(set(paths))
    return [p for p in paths if not any(p.startswith(q.rstrip("/") + "/") for q in paths if q != p)]


def root_plan(spec):
    """What the kernel's new root holds, as real host paths: {"read": bound read-only, "write":
    bound writable (the socket folders and the spec's writable paths), "links": (path, target)}.
    /proc is not bound: the sandbox mounts its own."""
    def real(paths):
        return [os.path.realpath(p) for p in paths if os.path.exists(p)]
    read = [p for p in real(spec["read"]) if p != "/proc" and not p.startswith("/proc/")]
    write = real(spec.get("write", [])) + [p for p in real(spec.get("sockets", [])) if os.path.isdir(p)]
    named = [*spec["read"], *spec.get("write", []), *spec.get("sockets", []), spec["work"]]
    links = sorted({link for path in named if os.path.exists(path) for link in _links_on_the_way(path)})
    return {"read": _outermost(set(read) - set(write)), "write": _outermost(write), "links": links}


def _pivot_into(root):
    """Make the mount at `root` this mount namespace's root; the old one hangs at `OLD_ROOT`."""
    os.mkdir(root + OLD_ROOT, 0o700)
    _check(LIBC.syscall(SYS_PIVOT_ROOT, root.encode(), (root + OLD_ROOT).encode()), "pivot_root")
    os.chdir("/")


def _bind_from_old_root(path):
    """Bind the host's `path` (under `OLD_ROOT`), with every mount below it, at `path`."""
    source = OLD_ROOT + path
    _make_mount_point(path, os.path.isdir(source))
    _mount(source, path, None, MS_BIND | MS_REC, None)


def _make_links(links):
    for path, target in links:
        if not os.path.lexists(path):  # one inside a bound folder came with it
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            os.symlink(target, path)


def _fill_work(spec, sources, under=""):
    """Mount the work folder (a size-capped tmpfs) and copy the spec's files in, from below
    `under` (the old root, once the new one is entered)."""
    work = spec["work"]
    _make_mount_point(work, True)
    _mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(spec['work_bytes'])},nr_inodes={int(spec.get('work_inodes', 4096))},mode=0700")
    os.mkdir(os.path.join(work, ".tmp"))  # the program's TMPDIR
    for source, relative in sources:
        target, source = os.path.join(work, relative), under + source
        if os.path.isdir(source):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)


def enter_new_root(spec):
    """Give this mount namespace a root made only of what the kernel needs, and detach the host's.

    A unix socket is connected to by path, and neither Landlock (ABI 7 and before), the network
    namespace nor a read-only mount stops that: whatever socket the kernel's uid may open (the
    grader's D-Bus session bus, an ssh agent, a 0666 /dev/log, a socket of one of the grader's
    groups) would be reachable if its path were. In the new root no such path exists. It is a
    read-only tmpfs holding the spec's read paths (bound read-only, with the mounts below them,
    the hidden folders among them), its writable paths and socket folders (bound writable), the
    links on their way, the work folder (a tmpfs) and a private /proc. Its folders are 0755, so
    a path under a folder others cannot pass through (a 0700 /root) is reachable at its own path
    without that folder.

    Parameters
    ----------
    spec : dict
        The sandbox's spec (``read``, ``write``, ``sockets``, ``work``, ``work_bytes``, ``copy``).
    """
    plan = root_plan(spec)
    sources = [(os.path.realpath(source), relative) for source, relative in spec.get("copy", [])]
    staging = spec["work"]  # an empty folder of the grader's: mounted over here only, never written
    _mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, NEW_ROOT_OPTIONS)
    _pivot_into(staging)
    for path in plan["read"] + plan["write"]:
        _bind_from_old_root(path)
    _make_mount_point("/proc", True)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)  # needs the host's /proc still here
    _fill_work(spec, sources, under=OLD_ROOT)
    _make_links(plan["links"])
    for path in plan["read"]:
        _set_read_only(path, recursive=True)
    _check(LIBC.umount2(OLD_ROOT.encode(), MNT_DETACH), "detach the old root")
    os.rmdir(OLD_ROOT)
    _set_read_only("/")


def prepare_filesystem(spec, kernel=None):
    """Set up the sandbox's filesystem in this (new) mount namespace.

    Hides the spec's folders, then moves into a root made only of what the kernel needs
    (`enter_new_root`): nothing else of the host's filesystem, its unix sockets included, has a
    path there. For a `kernel` id, gives it the work folder and lets it into the socket folders
    (`let_in`). Either way only the work folder, the socket
    folders and the spec's writable paths are writable: a kernel that keeps the grader's uid
    cannot change the grader's files, Landlock or not.

    Parameters
    ----------
    spec : dict
        The sandbox's spec (``work``, ``work_bytes``, ``copy``, ``hide``, ``sockets``,
        ``read``, ``write``).
    kernel : int, optional
        The id the kernel takes (`kernel_id`), or None.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    hide(spec.get("hide", []))
    enter_new_root(spec)
    if kernel is None:
        return
    _give_folders(kernel, spec["work"], [path for path in spec.get("sockets", []) if os.path.isdir(path)])


def _give_folders(kernel, work, sockets):
    """Make the work folder the `kernel` id's, and let it make its sockets in the socket folders
    (`let_in`), which stay the grader's."""
    give_to(kernel, [work])
    for folder in sockets:
        if not let_in(kernel, folder):
            give_to(kernel, [folder], **({} if _grader_is_root() else {"group": 0, "mode": 0o2770}))


ACL_ACCESS = "system.posix_acl_access"
ACL_VERSION, ACL_UNDEFINED_ID = 2, 0xFFFFFFFF
ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER = 0x01, 0x02, 0x04, 0x10, 0x20


def let_in(kernel, folder):
    """Let the `kernel` id make and remove entries in the grader's `folder`, which it does not own.

    The folder stays the grader's (inside 0), mode 2770 with the grader's group (a socket made in
    it gets that group, which a grader that is not root reaches it through), and an access ACL
    gives the kernel's uid the rights of the folder's owner. Owning the folder, the kernel could
    chmod it 000 and leave a folder a grader that is not root cannot remove.

    Parameters
    ----------
    kernel : int
        The kernel's id inside the user namespace (the ACL is written through it).
    folder : str

    Returns
    -------
    bool
        False where the filesystem keeps no POSIX ACL (the caller gives the kernel the folder).
    """
    os.chown(folder, 0, 0)
    os.chmod(folder, 0o2770)
    entries = [(ACL_USER_OBJ, 7, ACL_UNDEFINED_ID), (ACL_USER, 7, kernel), (ACL_GROUP_OBJ, 7, ACL_UNDEFINED_ID),
               (ACL_MASK, 7, ACL_UNDEFINED_ID), (ACL_OTHER, 0, ACL_UNDEFINED_ID)]
    value = struct.pack("<I", ACL_VERSION) + b"".join(struct.pack("<HHI", *entry) for entry in entries)
    try:
        os.setxattr(folder, ACL_ACCESS, value)
    except OSError as error:
        if error.errno in (errno.EOPNOTSUPP, errno.ENOTSUP):
            return False
        raise
    return True


def hide(folders):
    """Cover each folder with an empty read-only tmpfs (in this mount namespace)."""
    for path in folders:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2")


def set_limits(spec):
    import resource
    os.nice(10)  # a kernel spinning every core still leaves the grader and its coordinator the CPU they need
    limits = {resource.RLIMIT_AS: spec.get("memory_bytes"), resource.RLIMIT_NPROC: spec.get("processes"),
              resource.RLIMIT_FSIZE: spec.get("file_bytes"), resource.RLIMIT_NOFILE: spec.get("open_files"),
              resource.RLIMIT_CORE: 0, resource.RLIMIT_CPU: spec.get("cpu_seconds")}
    for limit, value in limits.items():
        if value is not None:
            resource.setrlimit(limit, (int(value), int(value)))


def _relay(pid):
    """Pass SIGTERM on to `pid`; survive SIGINT. Jupyter interrupts a kernel by signalling its
    process group, which holds the launcher, the namespace's first process and the kernel alike:
    relaying SIGINT too would interrupt the kernel twice."""
    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, lambda _signum, _frame: None)


def _wait_for(pid, reap_all):
    """Wait until `pid` ends (reaping every other child when `reap_all`); its exit status."""
    while True:
        try:
            ended, status = os.waitpid(-1 if reap_all else pid, 0)
        except ChildProcessError:
            return FAILED
        except InterruptedError:
            continue
        if ended == pid:
            return os.waitstatus_to_exitcode(status) % 256


def namespace_init(spec, start, kernel=None):
    """The pid namespace's first process: set the sandbox up, call `start` in a child (it must
    not return) that has become the `kernel` id when there is one, reap, exit. This process keeps
    its uid: the program cannot signal or trace it."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    prepare_filesystem(spec, kernel)
    set_limits(spec)
    restrict_with_landlock(spec["read"], spec.get("write", []) + [spec["work"]], spec.get("sockets", []))
    pid = os.fork()
    if pid == 0:
        os.chdir(spec["work"])
        if kernel is not None and not _grader_is_root():
            os.umask(KERNEL_UMASK)  # its sockets: group-writable, in a folder of the grader's group
        shed_privileges(kernel)
        start()
        os._exit(FAILED)
    _relay(pid)
    return _wait_for(pid, reap_all=True)


def run_sandboxed(spec, start, flags=ALL_NAMESPACES):
    """Steps 2 to 6: enter the namespaces in `flags` (a new pid namespace among them) and run
    `start` in the sandbox; its exit status, or `FAILED` when a step failed (said on stderr)."""
    try:
        enter_namespaces(flags, kernel_ids() if flags & CLONE_NEWUSER else None)
        kernel = kernel_id()
        pid = os.fork()
        if pid == 0:
            try:
                os._exit(namespace_init(spec, start, kernel))
            except SandboxError as error:
                sys.stderr.write(f"sandbox: {error}\n")
            except BaseException as error:  # anything else while setting up is a failed set-up too
                sys.stderr.write(f"sandbox: setting up failed: {type(error).__name__}: {error}\n")
            os._exit(FAILED)
        _relay(pid)
        return _wait_for(pid, reap_all=False)
    except SandboxError as error:
        sys.stderr.write(f"sandbox: {error}\n")
        return FAILED


def connection_file_into_work(spec, argv):
    """Copy the kernel's connection file (argument after ``-f``) into the work folder: the
    program cannot read the folder it was written to."""
    if "-f" not in argv:
        return argv, []
    index = argv.index("-f") + 1
    name = "kernel-connection.json"
    return argv[:index] + [os.path.join(spec["work"], name)] + argv[index + 1:], [[argv[index], name]]


def start_zygote(spec, spec_file):
    """Become the warm-kernel process (`zygote`): in new user, mount, network, IPC and UTS
    namespaces (no pid namespace: each kernel it forks gets one of its own), with the spec's
    environment. It hides the kit's folders itself, once it has loaded what it preloads."""
    enter_namespaces(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS,
                     kernel_ids())  # its kernels take them (`kernel_id`); it keeps inside 0
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    if os.getuid() != 0:  # the grader's own uid inside (no kernel ids): execve would drop every capability
        keep_capabilities_over_exec()
    zygote = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zygote.py")
    os.execve(sys.executable, [sys.executable, "-s", zygote, spec_file], spec["env"])


def main(arguments):
    if os.environ.get("KIT_SANDBOX_CLEAN") != "1":
        # Start again with an empty environment: the namespace's first process is this one, and
        # a program in the sandbox can read its /proc/1/environ.
        os.execve(sys.executable, [sys.executable, "-I", "-S", os.path.abspath(__file__), *arguments],
                  {"KIT_SANDBOX_CLEAN": "1", "KIT_SANDBOX_PARENT": str(os.getppid())})
    # Whoever started the sandbox (a grading worker) may die without stopping it: go with it.
    # Its pid, not 1, tells whether it already has: in a container the grader may be pid 1 itself.
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if str(os.getppid()) != os.environ.get("KIT_SANDBOX_PARENT"):
        return FAILED
    separator = arguments.index("--")
    with open(arguments[0]) as handle:
        spec = json.load(handle)
    argv = arguments[separator + 1:]
    warning = protection_warning()
    if warning:  # `policy.check_available` passes it on to the grader
        sys.stderr.write(f"sandbox: warning: {warning}\n")
    group = join_pids_cgroup(spec)
    if argv == ["zygote"]:  # the group outlives this process: the pool removes it
        try:
            start_zygote(spec, arguments[0])
        except SandboxError as error:
            sys.stderr.write(f"sandbox: {error}\n")
        return FAILED
    argv, extra = connection_file_into_work(spec, argv)
    spec["copy"] = spec.get("copy", []) + extra
    try:
        return run_sandboxed(spec, lambda: os.execve(argv[0], argv, spec["env"]))
    finally:
        leave_cgroup(group)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
