"""Start a program inside the grading sandbox: ``python -I -S launch.py SPEC.json -- PROGRAM ARG…``.

Standard library only, so it runs before anything of the kit could be imported by the program.
What it does, in order (each step's failure ends it with exit code 125 and says which step):

0. starts itself again with an empty environment, and arranges to die with its parent;
1. puts itself in a pids cgroup of its own, where the cgroup v1 pids controller is writable
   (as root; elsewhere RLIMIT_NPROC is the bound, which binds only non-root users);
2. enters new user, mount, pid, network, IPC and UTS namespaces, mapping its own uid: no
   network at all, no view of other processes, and no privilege over the machine;
3. forks the pid namespace's first process, which the kernel makes take every process of the
   namespace with it when it ends (setsid and double fork included); it dies with this process;
4. there: mounts a private /proc, a size-capped tmpfs on the work folder (filled with the
   spec's files), empty read-only tmpfs over the folders to hide, and sets the rlimits;
5. restricts itself with Landlock (filesystem: read the listed paths, write the work folder,
   make sockets in the socket folders; TCP bind and connect denied; signals and abstract unix
   sockets scoped to the sandbox) under no_new_privs;
6. forks the program with an environment made only of the spec's variables, relays SIGINT and
   SIGTERM to it, and exits with its status.

With ``-- zygote`` instead of a program it does steps 0 to 2 only (no pid namespace) and becomes
the warm-kernel process of `zygote`, which runs steps 2 to 6 for every kernel it forks, with a
kernel started in-process instead of a program.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import struct
import sys

FAILED = 125

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REC, MS_PRIVATE = 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38

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


def join_pids_cgroup(limit):
    """Put this process in a fresh cgroup v1 pids group capped at `limit`; the group's path, or
    None where the controller is not writable (then RLIMIT_NPROC is the only bound)."""
    root = "/sys/fs/cgroup/pids"
    if not os.access(root, os.W_OK):
        return None
    parent = os.path.join(root, "autograder")
    try:
        os.makedirs(parent, exist_ok=True)
        for stale in os.listdir(parent):  # groups of sandboxes killed before they could clean up
            if os.path.isdir(os.path.join(parent, stale)):
                try:
                    os.rmdir(os.path.join(parent, stale))
                except OSError:
                    pass
    except OSError:
        return None
    group = os.path.join(parent, f"sandbox-{os.getpid()}")
    for _attempt in range(3):  # another sandbox's sweep may remove the group before this one joins it
        try:
            os.makedirs(group, exist_ok=True)
            with open(os.path.join(group, "pids.max"), "w") as handle:
                handle.write(str(limit))
            with open(os.path.join(group, "cgroup.procs"), "w") as handle:
                handle.write(str(os.getpid()))
            return group
        except OSError:
            continue
    return None


def leave_cgroup(group):
    if group:
        try:
            with open("/sys/fs/cgroup/pids/cgroup.procs", "w") as handle:
                handle.write(str(os.getpid()))
            os.rmdir(group)
        except OSError:
            pass


ALL_NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS


def enter_namespaces(flags=ALL_NAMESPACES):
    """Unshare the namespaces in `flags`; with a new user namespace, map this process's own uid in it."""
    uid, gid = os.getuid(), os.getgid()
    _check(LIBC.unshare(flags), "namespaces: unshare " + ", ".join(
        name for bit, name in ((CLONE_NEWUSER, "user"), (CLONE_NEWNS, "mount"), (CLONE_NEWPID, "pid"),
                               (CLONE_NEWNET, "network"), (CLONE_NEWIPC, "IPC"), (CLONE_NEWUTS, "UTS")) if flags & bit))
    if not flags & CLONE_NEWUSER:
        return
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        try:
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
        except OSError as error:
            raise SandboxError(f"namespaces: write {name}: {error.strerror}") from None


def prepare_filesystem(spec):
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    work = spec["work"]
    _mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(spec['work_bytes'])},nr_inodes={int(spec.get('work_inodes', 4096))},mode=0700")
    os.mkdir(os.path.join(work, ".tmp"))  # the program's TMPDIR
    for source, relative in spec.get("copy", []):
        target = os.path.join(work, relative)
        if os.path.isdir(source):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)
    hide(spec.get("hide", []))


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


def namespace_init(spec, start):
    """The pid namespace's first process: set the sandbox up, call `start` in a child (it must
    not return), reap, exit."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    prepare_filesystem(spec)
    set_limits(spec)
    restrict_with_landlock(spec["read"], spec.get("write", []) + [spec["work"]], spec.get("sockets", []))
    pid = os.fork()
    if pid == 0:
        os.chdir(spec["work"])
        start()
        os._exit(FAILED)
    _relay(pid)
    return _wait_for(pid, reap_all=True)


def run_sandboxed(spec, start, flags=ALL_NAMESPACES):
    """Steps 2 to 6: enter the namespaces in `flags` (a new pid namespace among them) and run
    `start` in the sandbox; its exit status, or `FAILED` when a step failed (said on stderr)."""
    try:
        enter_namespaces(flags)
        pid = os.fork()
        if pid == 0:
            try:
                os._exit(namespace_init(spec, start))
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
    enter_namespaces(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
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
    group = join_pids_cgroup(spec.get("processes", 256))
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
