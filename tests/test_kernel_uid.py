"""A kernel never has the grader's uid where the machine allows: a root grader's kernels, and
those of a grader that is not root but has subordinate ids (/etc/subuid, newuidmap), run under a
uid of their own, so file permissions and RLIMIT_NPROC bind them even where Landlock would allow
and where no cgroup is to be had. A grader without a range warns, and its kernels find every
file outside their folders read-only. A pids cgroup v2 group is used only where it is really
delegated to the grader.

The tests run as root: a root grader in a small container is root in a user namespace mapping
65,536 ids; the graders that are not root are an account that exists only in the mount namespace
their commands run in (tests/as_another_account.py: /etc is covered with a copy holding its
lines, and subuid and subgid ones where a test gives it a range), so the host's /etc is never
written.
"""

import asyncio
import grp
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from autograder.grade.autograde import STARTUP_FILES
from autograder.sandbox.namespaces import KERNEL_ID_BASE, kernel_ids_mappable
from autograder.sandbox.kernel import SandboxedKernelManager
from autograder.sandbox.policy import Sandbox
from kernel_probe import LOCKS_ITS_SOCKET_FOLDER, probe, status
from test_sandbox import run_inside

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not kernel_ids_mappable(),
                                reason="needs a root grader with the kernel ids (it also makes the graders that are not)")

# Forks until the sandbox refuses, each child waiting; prints how many, why it stopped, and its uid.
FORK_BOMB = """
    import errno, os, time
    children, refused = 0, None
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError as error:
            refused = errno.errorcode[error.errno]
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
    print(children, refused, os.getuid())
"""


def processes_of_uid(uid):
    return [p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid]


def test_a_fork_bomb_is_capped_by_rlimit_nproc_without_a_cgroup(tmp_path):
    """As root, with no pids cgroup (the operator's switch), RLIMIT_NPROC alone caps the
    program: it binds the kernel's own uid. Everything it forked ends with the sandbox."""
    code, out, err = run_inside(tmp_path, FORK_BOMB, sandbox=Sandbox(memory_bytes=1 << 30, processes=24, cgroups=False))
    assert code == 0, err
    children, refused, uid = out.split()
    assert refused == "EAGAIN" and 20 <= int(children) <= 23, out  # the program itself is the 24th
    assert processes_of_uid(KERNEL_ID_BASE + int(uid)) == []


def kernel_and_first_process(found):
    """(the kernel's processes, the pid namespace's first process) among those `probe` found."""
    first = [p for p in found["processes"] if p["NSpid"][-1] == "1"]
    others = [p for p in found["processes"] if len(p["NSpid"]) > 1 and p["NSpid"][-1] != "1"]
    assert len(first) == 1 and others, found
    return others, first[0]


def assert_ids(processes, expected, grader_ids):
    """Every process has uid and gid `expected` (not one of `grader_ids`, not 0), no group and no capability."""
    for process in processes:
        ids = {int(value) for value in process["Uid"] + process["Gid"]}
        assert ids == {expected} and not ids & {0, *grader_ids}, process
        assert process["Groups"] == [] and int(process["CapEff"][0], 16) == 0, process


STARTS_A_PROCESS = ("import subprocess, sys\n"
                    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                    "import time, numpy, ipykernel; time.sleep(0.5); print('started', int(numpy.ones(3).sum()))\n"
                    + LOCKS_ITS_SOCKET_FOLDER)


def check_a_kernel(pool=None):
    """A kernel (cold, or forked from `pool`) starts a process; both have the uid and gid
    ``KERNEL_ID_BASE + leader``, no group, no capability. It runs numpy, cannot chmod the
    folder of its sockets (the grader's), and leaves nothing behind."""
    found = asyncio.run(probe(STARTS_A_PROCESS, pool))
    assert found["status"] == "ok" and found["printed"].split("\n")[:2] == ["started 3", "chmod EPERM"], found
    processes, _first = kernel_and_first_process(found)
    assert len(processes) == 2, found
    assert_ids(processes, KERNEL_ID_BASE + found["leader"], {os.getuid(), os.getgid()})
    assert not found["folder left"]


def test_a_cold_kernel_has_a_uid_and_gid_of_its_own():
    check_a_kernel()


def test_a_warm_kernel_has_a_uid_and_gid_of_its_own():
    from autograder.sandbox.warm_kernels import KernelForkServer
    pool = KernelForkServer(Sandbox())
    try:
        check_a_kernel(pool)
        server = status(pool.process.pid)
        assert server["Uid"][0] == str(os.getuid())  # the kernel fork server keeps inside 0; it runs no student code
    finally:
        pool.stop()


READS = """
    import numpy, ipykernel
    for name in ("open.txt", "secret.txt"):
        try:
            print(name, open({folder!r} + "/" + name).read())
        except PermissionError:
            print(name, "denied")
"""


def test_a_0600_file_is_closed_even_where_landlock_allows(tmp_path):
    """A root-owned 0600 file in a folder the sandbox may read: the kernel's uid has only the
    permission bits for others, so it reads the 0644 file beside it, not this one."""
    folder = tmp_path / "released"
    folder.mkdir()
    (folder / "open.txt").write_text("for everyone")
    secret = folder / "secret.txt"
    secret.write_text("the answers")
    secret.chmod(0o600)
    code, out, err = run_inside(tmp_path, READS.format(folder=str(folder)),
                                sandbox=Sandbox(memory_bytes=1 << 30, readable=[str(folder)]))
    assert code == 0, err
    assert out.splitlines() == ["open.txt for everyone", "secret.txt denied"]


# Root in a new user namespace that maps only ids 0 to 65535, as a container's: runs the rest of
# the command line there.
IN_A_SMALL_CONTAINER = """
import ctypes, os, sys
ready, go = os.pipe(), os.pipe()
pid = os.fork()
if pid == 0:
    if ctypes.CDLL(None, use_errno=True).unshare(0x10000000):  # CLONE_NEWUSER
        os._exit(99)
    os.write(ready[1], b"1")
    os.read(go[0], 1)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
os.read(ready[0], 1)
for name in ("uid_map", "gid_map"):
    with open(f"/proc/{pid}/{name}", "w") as handle:
        handle.write("0 0 65536\\n")
os.write(go[1], b"1")
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""

# Starts a sandboxed program that says its uid and waits, and reads the uids of the sandbox's
# processes from outside it (in the container, whose ids are the host's).
UIDS_FROM_OUTSIDE = """
import json, pathlib, subprocess, sys, tempfile
import psutil
from autograder.sandbox import namespaces
from autograder.sandbox.policy import Sandbox
ids = namespaces.kernel_ids()
with tempfile.TemporaryDirectory() as name:
    folder = pathlib.Path(name)
    work, sockets, program = folder / "work", folder / "sockets", folder / "program.py"
    work.mkdir(), sockets.mkdir()
    program.write_text("import os, time; print(os.getuid(), flush=True); time.sleep(30)")
    sandbox = Sandbox(memory_bytes=1 << 30, files=[(str(program), "program.py")])
    child = subprocess.Popen(sandbox.command([sys.executable, "program.py"], work, sockets),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    inside = child.stdout.readline().strip()
    uids = sorted({process.uids().real for process in psutil.Process(child.pid).children(recursive=True)})
    child.kill()
    stderr = child.communicate()[1]
print(json.dumps({"ids": ids and [ids.uid_start, ids.gid_start, ids.count], "inside": inside, "uids": uids,
                  "stderr": stderr, "map": open("/proc/self/uid_map").read().split()}))
"""


def test_a_root_grader_in_a_small_container_gives_its_kernels_free_ids_of_its_map():
    """Root in a container that maps 65,536 ids has no `KERNEL_ID_BASE` ids: its kernels take
    ids from the largest stretch of its map that no account or group uses, never 0 (before, they
    kept the container's root), and it warns of nothing."""
    done = subprocess.run([sys.executable, "-c", IN_A_SMALL_CONTAINER, "-c", UIDS_FROM_OUTSIDE],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["map"] == ["0", "0", "65536"] and found["ids"], found
    start, _gids, count = found["ids"]
    taken = {e.pw_uid for e in pwd.getpwall()} | {e.pw_gid for e in pwd.getpwall()} | {g.gr_gid for g in grp.getgrall()}
    assert count >= 1024 and not set(range(start, start + count)) & (taken | {0, 65534, 65535}), found
    kernel = start + int(found["inside"]) - 1
    assert found["uids"] == [0, kernel] and "warning" not in found["stderr"], found  # the namespace's first process keeps 0


BOMB_CELL = FORK_BOMB.replace("\n    ", "\n").replace("time.sleep(30)", "time.sleep(60)")


async def fork_until_refused(manager):
    """Run the fork bomb in the kernel of `manager`; (children, why it stopped)."""
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        printed = []
        await client.execute_interactive(BOMB_CELL, timeout=60,
                                         output_hook=lambda m: printed.append(m["content"].get("text", "")))
        children, refused, _uid = "".join(printed).split()
        return int(children), refused
    finally:
        client.stop_channels()


def test_warm_kernels_have_a_process_budget_each_without_a_cgroup():
    """Two kernels of one kernel fork server, at once, without pids cgroups: each is refused at
    about its own limit, not at what the other left over; and the server still forks kernels."""
    from autograder.sandbox.warm_kernels import KernelForkServer
    sandbox = Sandbox(memory_bytes=1 << 30, processes=40, cgroups=False)
    pool = KernelForkServer(Sandbox(cgroups=False))

    def manager():
        return SandboxedKernelManager(sandbox=sandbox, startup_files=STARTUP_FILES, fork_server=pool, kernel_name="python3")

    async def scenario():
        managers = [manager(), manager()]
        try:
            for each in managers:
                await each.start_kernel()
            counts = [await fork_until_refused(each) for each in managers]  # the first one's children live on
            third = manager()
            await third.start_kernel()
            managers.append(third)
            assert await third.is_alive()
            return counts
        finally:
            for each in managers:
                await each.shutdown_kernel(now=True)

    try:
        (first, why_first), (second, why_second) = asyncio.run(scenario())
    finally:
        pool.stop()
    assert why_first == why_second == "EAGAIN"
    assert 20 <= first <= 39 and abs(first - second) <= 3, (first, second)  # threads of the kernel count too


CHANGES_METADATA = """
    import os
    for path in {paths!r}:
        for name, attempt in (("chmod", lambda: os.chmod(path, 0o666)), ("utime", lambda: os.utime(path, (0, 0)))):
            try:
                attempt()
                print("changed", name, path)
            except OSError as error:
                print("refused", name, type(error).__name__)
"""


def test_the_kernel_cannot_change_the_mode_or_times_of_root_files(tmp_path):
    """Landlock has no right for a file's mode or times: a kernel running as root (inside its user
    namespace, the files' owner) could chmod and touch any root file it could name, readable or
    not (the installed packages, a private file). Under a uid of its own it owns none of them."""
    readable, private = tmp_path / "released", tmp_path / "private"
    for folder in (readable, private):
        folder.mkdir()
        (folder / "file.txt").write_text("x")
    paths = [str(readable / "file.txt"), str(private / "file.txt")]
    before = [(os.stat(p).st_mode, os.stat(p).st_mtime_ns) for p in paths]
    code, out, err = run_inside(tmp_path, CHANGES_METADATA.format(paths=paths),
                                sandbox=Sandbox(memory_bytes=1 << 30, readable=[str(readable)]))
    assert code == 0, err
    assert "changed" not in out and out.count("refused") == 4, out
    assert [(os.stat(p).st_mode, os.stat(p).st_mtime_ns) for p in paths] == before


# --- graders that are not root ---

REPOSITORY = Path(__file__).resolve().parents[1]
TESTS = REPOSITORY / "tests"
SANDBOX_CODE = str(REPOSITORY / "autograder" / "sandbox")
SUBORDINATE_START, SUBORDINATE_COUNT = 0x60000000, 65536  # below the root grader's kernel ids, used by no account
ACCOUNT_FILES = [Path("/etc") / name for name in ("passwd", "group", "subuid", "subgid")]


def needed(*tools):
    """Skip (fail in CI, whose .ci/run installs them) unless every tool in `tools` is on PATH."""
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        reason = f"needs {', '.join(missing)} (Debian: apt-get install uidmap for newuidmap, newgidmap)"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)


def account_files():
    return {path: path.read_bytes() if path.exists() else None for path in ACCOUNT_FILES}


class Grader:
    """An account that grades, which exists only for the commands run as it (`run_as`): `name`,
    `uid`, `gid` (its own group), a supplementary group `extra_gid`, and a 0700 `home`."""

    def __init__(self, uid, home):
        self.name, self.uid, self.gid, self.extra_gid, self.home = f"kit-grader-{uid}", uid, uid, uid + 1, home

    def etc(self, subordinate=None, accounts=()):
        """The lines its commands see added to /etc: its account and groups, `accounts`, and a
        `subordinate` range (start, count) in subuid and subgid."""
        lines = {"passwd": [f"{self.name}:x:{self.uid}:{self.gid}::{self.home}:/usr/sbin/nologin", *accounts],
                 "group": [f"{self.name}:x:{self.gid}:", f"{self.name}-extra:x:{self.extra_gid}:{self.name}"]}
        if subordinate:
            lines["subuid"] = lines["subgid"] = [f"{self.name}:{subordinate[0]}:{subordinate[1]}"]
        return lines


@pytest.fixture(scope="module")
def grader():
    """A grader account seen only by the commands `run_as` runs (the host's /etc is not written)."""
    needed("setpriv")
    taken = {e.pw_uid for e in pwd.getpwall()} | {g.gr_gid for g in grp.getgrall()}
    uid = next(n for n in range(61000, 62000, 2) if not {n, n + 1} & taken)
    home = Path(tempfile.mkdtemp(prefix=f"kit-grader-{uid}-"))
    before = account_files()
    try:
        os.chown(home, uid, uid)
        yield Grader(uid, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert account_files() == before


def run_as(grader, arguments, subordinate=None, accounts=(), timeout=120):
    """Run `arguments` (a Python program and its arguments) as `grader`, with its home as HOME and
    TMPDIR, its own group and its supplementary one; (exit code, stdout, stderr)."""
    spec = {"uid": grader.uid, "gid": grader.gid, "groups": [grader.extra_gid],
            "etc": grader.etc(subordinate, accounts),
            "paths": sorted({sys.base_prefix, sys.prefix, os.path.realpath(sys.executable), str(REPOSITORY)})}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(spec, handle)
        handle.flush()
        env = {"PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin", "HOME": str(grader.home),
               "TMPDIR": str(grader.home), "MPLBACKEND": "Agg", "PYTHONPATH": str(REPOSITORY), "LANG": "C.UTF-8"}
        done = subprocess.run([sys.executable, str(TESTS / "as_another_account.py"), handle.name, "--",
                               sys.executable, *arguments], env=env, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


@contextmanager
def a_socket_of_the_extra_group(grader):
    """A listening unix socket in /tmp that the grader's supplementary group (only) may connect
    to; yields its path, and checks on leaving that nobody connected."""
    folder = Path(tempfile.mkdtemp(dir="/tmp", prefix="kit-group-socket-"))
    listener = socket.socket(socket.AF_UNIX)
    try:
        path = folder / "group.sock"
        listener.bind(str(path))
        listener.listen()
        listener.setblocking(False)
        os.chown(folder, 0, grader.extra_gid)
        os.chown(path, 0, grader.extra_gid)
        folder.chmod(0o750)
        path.chmod(0o770)
        yield str(path)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)


CONNECTS = """
import errno as _errno, socket as _socket
try:
    _socket.socket(_socket.AF_UNIX).connect({path!r})
    print("connect done")
except OSError as _error:
    print("connect", _errno.errorcode[_error.errno])
"""


def kernels_of(grader, cell, **etc):
    """What `kernel_probe` found for `grader` (its cold and its warm kernel), and its stderr."""
    code, out, err = run_as(grader, [str(TESTS / "kernel_probe.py"), cell], **etc)
    assert code == 0, err
    return json.loads(out.splitlines()[-1]), err


SAYS_ITS_UID = "import os, numpy; print(os.getuid(), os.getgid(), int(numpy.ones(3).sum()))\n"


def test_a_grader_with_a_subordinate_range_gives_its_kernels_ids_from_it(grader):
    """A grader that is not root, with a range in /etc/subuid and /etc/subgid: its cold and warm
    kernels, seen from outside, have a uid and gid in that range, after the id of an account that
    lies in it (start + 6 + (pid - 1) mod (count - 6)), neither the grader's nor 0, no group and
    no capability, and still run numpy. The grader reaches their sockets; they cannot chmod the
    sockets' folder nor reach a socket of the grader's supplementary group, and leave nothing
    behind; check_available warns of nothing."""
    needed("newuidmap", "newgidmap")
    inside_the_range = SUBORDINATE_START + 5  # an account's uid and gid: no kernel may take them
    with a_socket_of_the_extra_group(grader) as path:
        found, err = kernels_of(grader, SAYS_ITS_UID + LOCKS_ITS_SOCKET_FOLDER + CONNECTS.format(path=path),
                                subordinate=(SUBORDINATE_START, SUBORDINATE_COUNT),
                                accounts=[f"kit-inside:x:{inside_the_range}:{inside_the_range}::/:/usr/sbin/nologin"])
    assert "warning" not in err, err
    assert found["mappable"] and "RLIMIT_NPROC on the kernel's own uid" in found["bound"], found
    first_free, count = inside_the_range + 1, SUBORDINATE_COUNT - 6
    for kind in ("cold", "warm"):
        kernel = found[kind]
        assert kernel["status"] == "ok", kernel
        inside = 1 + (kernel["leader"] - 1) % count
        assert kernel["printed"].split("\n")[:3] == [f"{inside} {inside} 3", "chmod EPERM", "connect ENOENT"], kernel
        processes, first = kernel_and_first_process(kernel)
        assert_ids(processes, first_free + inside - 1, {grader.uid, grader.gid, grader.extra_gid})
        assert {int(value) for value in first["Uid"]} == {grader.uid}  # it sets the sandbox up, inside 0
        assert not kernel["folder left"], kernel


def test_a_grader_without_a_range_warns_and_its_kernels_cannot_change_its_files(grader):
    """Without a range its kernels keep the grader's uid (and its supplementary group: an
    unprivileged user namespace cannot drop it), so they own the grader's files, and Landlock has
    no right for a file's mode or times: a cold and a warm kernel each try to chmod, touch and
    write a file of the grader's outside their folders, and a socket of the grader's group, and
    find none of them in their root; the file is unchanged. They hold no capability.
    check_available prints the one-line warning saying what is missing and how to get it."""
    notes = grader.home / "course" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("the grader's")
    for path in (notes.parent, notes):
        os.chown(path, grader.uid, grader.gid)
    before = notes.stat()
    cell = textwrap.dedent(f"""
        import os
        path = {str(notes)!r}
        for name, attempt in (("chmod", lambda: os.chmod(path, 0o777)), ("utime", lambda: os.utime(path, (0, 0))),
                              ("write", lambda: open(path, "a").write("x"))):
            try:
                attempt()
                print(name, "done")
            except OSError as error:
                print(name, os.strerror(error.errno))
        print("uid", os.getuid(), open("/proc/self/status").read().split("CapEff:")[1].split()[0])
    """)
    with a_socket_of_the_extra_group(grader) as path:
        found, err = kernels_of(grader, cell + CONNECTS.format(path=path))
    assert not found["mappable"] and "on the grader's uid" in found["bound"], found
    for kind in ("cold", "warm"):
        kernel = found[kind]
        assert kernel["status"] == "ok", kernel
        assert kernel["printed"].split("\n")[:5] == [
            # Not in the kernel's own root at all (mounts.enter_new_root); read-only besides.
            "chmod No such file or directory", "utime No such file or directory", "write No such file or directory",
            f"uid {grader.uid} 0000000000000000", "connect ENOENT"], (kind, kernel["printed"])
        assert not kernel["folder left"], kernel
    after = notes.stat()
    assert (after.st_mode, after.st_mtime_ns, notes.read_text()) == (before.st_mode, before.st_mtime_ns, "the grader's")
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: kernels keep the grader's uid"), err
    assert "/etc/subuid" in warnings[0] and ("apt install uidmap" in warnings[0]
                                              or f"{grader.name} has no range" in warnings[0]), warnings


# --- which cgroup v2 groups are delegated ---

# As root, in a mount namespace of its own: a private cgroup2 mount, and under it real groups:
# plain, marked (trusted.delegate, user.delegate, as systemd's Delegate=yes), and given to the
# grader (folder and files, or the folder alone). Each is judged by cgroups.cgroup_v2_delegated
# as root and as the grader; then a process placed in the plain and the marked group, with the
# cgroup v1 pids controller read-only, says where sandboxes' pids groups would go.
CGROUP_DECISIONS = """
import json, os, subprocess, sys, tempfile, time
sys.path.insert(0, {sandbox!r})
import cgroups, mounts, namespaces
from linux import LIBC, check
uid, gid = {uid}, {gid}
check(LIBC.unshare(namespaces.CLONE_NEWNS), "unshare")
mounts.mount(None, "/", None, mounts.MS_REC | mounts.MS_PRIVATE, None)
point = tempfile.mkdtemp(prefix="kit-cgroup2-")
mounts.mount("none", point, "cgroup2", 0, None)
top = os.path.join(point, f"kit-test-{{os.getpid()}}")
names = ("plain", "trusted", "user", "owned", "owned-folder-only")
groups = {{name: os.path.join(top, name) for name in names}}
os.mkdir(top)
if "pids" in open(os.path.join(top, "cgroup.controllers")).read().split():
    open(os.path.join(top, "cgroup.subtree_control"), "w").write("+pids")  # a cgroup v2 host: let them have it
for path in groups.values():
    os.mkdir(path)
os.setxattr(groups["trusted"], "trusted.delegate", b"1")
os.setxattr(groups["user"], "user.delegate", b"1")
for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
    os.chown(os.path.join(groups["owned"], name), uid, gid)
os.chown(groups["owned-folder-only"], uid, gid)
judged = [("root", point), *groups.items()]
JUDGE = ("import json, sys; sys.path.insert(0, {sandbox!r}); import cgroups; "
         "print(json.dumps({{n: cgroups.cgroup_v2_delegated(p) for n, p in json.loads(sys.argv[1])}}))")
PLACED = ("import json, os, sys; sys.path.insert(0, {sandbox!r}); import cgroups; "
          "open(os.path.join(sys.argv[1], 'cgroup.procs'), 'w').write(str(os.getpid())); "
          "print(json.dumps([*cgroups.locate_sandbox_groups(), cgroups.process_bound(), "
          "cgroups.join_pids_cgroup({{'processes': 8}})]))")
try:
    found = {{"cgroup v1": os.path.isdir(cgroups.V1_PIDS),
             "as root": {{name: cgroups.cgroup_v2_delegated(path) for name, path in judged}},
             "writable, as root": {{name: os.access(os.path.join(path, "cgroup.procs"), os.W_OK) for name, path in judged}},
             "as the grader": json.loads(subprocess.run(
                 ["setpriv", "--reuid", str(uid), "--regid", str(gid), "--clear-groups", sys.executable, "-I", "-c",
                  JUDGE, json.dumps(judged)], capture_output=True, text=True, check=True).stdout)}}
    if found["cgroup v1"]:  # read-only here, so that the sandbox looks for a cgroup v2 group
        mounts.mount(None, cgroups.V1_PIDS, None, mounts.MS_REMOUNT | mounts.MS_BIND | mounts.MS_RDONLY
                     | mounts.MS_NOSUID | mounts.MS_NODEV | mounts.MS_NOEXEC, None)
    found["placed"] = {{name: json.loads(subprocess.run([sys.executable, "-I", "-c", PLACED, groups[name]],
                                                        capture_output=True, text=True, check=True).stdout)
                        for name in ("plain", "trusted")}}
    found["made in plain"] = [name for name in os.listdir(groups["plain"])
                              if os.path.isdir(os.path.join(groups["plain"], name))]
    found["groups"] = groups
    print(json.dumps(found))
finally:
    for path in [parent for parent, _names, _files in os.walk(top, topdown=False)]:  # the groups, deepest first
        for _attempt in range(50):
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
    LIBC.umount2(point.encode(), 0)
    os.rmdir(point)
"""


def test_a_cgroup_v2_group_is_used_only_where_it_is_really_delegated(grader):
    """On a real cgroup2 mount: for root, write access says nothing (it may write the root group
    and any group systemd manages), so only the delegate mark (trusted.delegate or user.delegate,
    as systemd's Delegate=yes sets) counts; for another uid, owning the folder with its
    cgroup.procs, cgroup.subtree_control and cgroup.threads does, the folder alone does not. A
    root grader placed in a plain group makes no pids group there, and says why its bound is
    RLIMIT_NPROC on the kernel's own uid; placed in a marked group it goes on to the pids
    controller (which the unified hierarchy lacks where pids is bound to cgroup v1)."""
    needed("setpriv")
    done = subprocess.run([sys.executable, "-c", CGROUP_DECISIONS.format(sandbox=SANDBOX_CODE, uid=grader.uid,
                                                                           gid=grader.gid)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert all(found["writable, as root"].values())  # what the sandbox took for delegation before
    assert found["as root"] == {"root": False, "plain": False, "trusted": True, "user": True, "owned": False,
                                "owned-folder-only": False}
    assert found["as the grader"] == {"root": False, "plain": False, "trusted": False, "user": True, "owned": True,
                                      "owned-folder-only": False}  # trusted.* is for CAP_SYS_ADMIN only
    home, why_not, bound, joined = found["placed"]["plain"]
    assert home is None and joined is None and found["made in plain"] == [], found
    assert why_not.endswith(f"{found['groups']['plain'].rsplit('/', 2)[-2]}/plain is not delegated to uid 0"), why_not
    assert bound.startswith("RLIMIT_NPROC on the kernel's own uid alone (the cgroup v2 group"), bound
    home, why_not, bound, joined = found["placed"]["trusted"]
    if home is None:  # this machine: pids is bound to cgroup v1
        assert why_not.endswith("has no pids controller") and joined is None, why_not
    else:
        assert home.endswith("/trusted/autograder") and joined and bound.startswith("a pids cgroup per sandbox"), found
