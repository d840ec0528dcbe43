"""A kernel never has the grader's uid where the machine allows: a root grader's kernels, and
those of a grader that is not root but has subordinate ids (/etc/subuid, newuidmap), run under a
uid of their own, so file permissions and RLIMIT_NPROC bind them even where Landlock would allow
and where no cgroup is to be had. A grader without a range warns, and its kernels find every
file outside their folders read-only. A pids cgroup v2 group is used only where it is really
delegated to the grader.

The tests run as root: the graders that are not root are a temporary account (made and removed
here, with an /etc/subuid and /etc/subgid line of its own while a test needs one), run with
setpriv in a mount namespace where the kit's Python is reachable for it.
"""

import asyncio
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from autograder.grade.autograde import STARTUP_FILES
from autograder.sandbox.launch import KERNEL_ID_BASE, kernel_ids_mappable
from autograder.sandbox.kernel import SandboxedKernelManager
from autograder.sandbox.policy import Sandbox
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


def statuses(pid):
    """{field: values} of /proc/`pid`/status, read from the grader's side."""
    with open(f"/proc/{pid}/status") as handle:
        return {line.split(":")[0]: line.split(":", 1)[1].split() for line in handle}


def kernel_processes(leader):
    """(pid, status) of every process under the sandbox whose outermost process is `leader`,
    but the pid namespace's first one (which sets the sandbox up and keeps inside uid 0)."""
    found = []
    for child in psutil.Process(leader).children(recursive=True):
        status = statuses(child.pid)
        if len(status["NSpid"]) > 1 and status["NSpid"][-1] != "1":
            found.append((child.pid, status))
    return found


def assert_kernel_ids(leader):
    """Every process of the kernel under `leader` has the uid and gid ``KERNEL_ID_BASE + leader``
    (neither 0 nor the grader's), no supplementary group and no capability; and there are two:
    the kernel and the process it started."""
    found = kernel_processes(leader)
    assert len(found) == 2, found
    for _pid, status in found:
        ids = {int(value) for value in status["Uid"] + status["Gid"]}
        assert ids == {KERNEL_ID_BASE + leader} and not ids & {0, os.getuid(), os.getgid()}
        assert status.get("Groups", []) == [] and int(status["CapEff"][0], 16) == 0


STARTS_A_PROCESS = ("import subprocess, sys\n"
                    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                    "import time; time.sleep(0.5); print('started')")


async def check_a_kernel(pool=None):
    """Start a kernel (cold, or forked from `pool`), have it start a process, and check the ids
    of both from outside; then that it can import numpy and ipykernel."""
    sandbox = Sandbox(memory_bytes=1 << 30)
    manager = SandboxedKernelManager(sandbox=sandbox, startup_files=STARTUP_FILES, pool=pool, kernel_name="python3")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        printed = []
        hook = lambda message: printed.append(message["content"].get("text", ""))  # noqa: E731
        await client.execute_interactive(STARTS_A_PROCESS, output_hook=hook, timeout=60)
        assert "started" in "".join(printed), printed
        assert_kernel_ids(manager.provisioner.process.pid)
        reply = await client.execute_interactive("import numpy, ipykernel; numpy.ones(3).sum()", timeout=60)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


def test_a_cold_kernel_has_a_uid_and_gid_of_its_own():
    asyncio.run(check_a_kernel())


def test_a_warm_kernel_has_a_uid_and_gid_of_its_own():
    from autograder.sandbox.pool import KernelPool
    pool = KernelPool(Sandbox())
    try:
        asyncio.run(check_a_kernel(pool))
        zygote = statuses(pool.process.pid)
        assert zygote["Uid"][0] == str(os.getuid())  # the warm process keeps inside 0; it runs no student code
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
    """Two kernels of one warm process, at once, without pids cgroups: each is refused at about
    its own limit, not at what the other left over; and the warm process still forks kernels."""
    from autograder.sandbox.pool import KernelPool
    sandbox = Sandbox(memory_bytes=1 << 30, processes=40, cgroups=False)
    pool = KernelPool(Sandbox(cgroups=False))

    def manager():
        return SandboxedKernelManager(sandbox=sandbox, startup_files=STARTUP_FILES, pool=pool, kernel_name="python3")

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
SANDBOX_CODE = str(REPOSITORY / "autograder" / "sandbox")
SUBORDINATE_START, SUBORDINATE_COUNT = 0x60000000, 65536  # below the root grader's kernel ids, used by no account
SUBUID, SUBGID = Path("/etc/subuid"), Path("/etc/subgid")


def needed(*tools):
    """Skip (fail in CI, whose .ci/run installs them) unless every tool in `tools` is on PATH."""
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        reason = f"needs {', '.join(missing)} (Debian: apt-get install uidmap for newuidmap, newgidmap)"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)


class Grader:
    """A temporary account that grades: `name`, `uid`, `gid` and a 0700 `home` of its own."""

    def __init__(self, name, home):
        entry = pwd.getpwnam(name)
        self.name, self.uid, self.gid, self.home = name, entry.pw_uid, entry.pw_gid, home


@pytest.fixture(scope="module")
def grader():
    needed("useradd", "userdel", "setpriv")
    uid = next(n for n in range(61000, 62000) if not any(e.pw_uid == n for e in pwd.getpwall()))
    name = f"kit-grader-{uid}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--user-group", "--uid", str(uid),
                    "--shell", "/usr/sbin/nologin", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name],
                   check=True, capture_output=True)
    home = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    try:
        account = Grader(name, home)
        os.chown(home, account.uid, account.gid)
        yield account
    finally:
        subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
    assert name not in {e.pw_name for e in pwd.getpwall()}


def has_a_range(grader):
    return any(path.exists() and f"{grader.name}:" in path.read_text() for path in (SUBUID, SUBGID))


@contextmanager
def subordinate_range(name, start, count):
    """`name` has the range `start`, `count` in /etc/subuid and /etc/subgid while in the block."""
    files = {}
    for path in (SUBUID, SUBGID):
        files[path] = path.read_text() if path.exists() else None
        before = files[path] or ""
        path.write_text(before + ("\n" if before and not before.endswith("\n") else "") + f"{name}:{start}:{count}\n")
    try:
        yield
    finally:
        for path, before in files.items():
            kept = [line for line in path.read_text().splitlines(True) if not line.startswith(f"{name}:")]
            if before is None and not kept:
                path.unlink()
            else:
                path.write_text("".join(kept))


# Run as root: in a mount namespace of its own, where the paths the kit's Python needs are open to
# everyone (the Python may lie under a 0700 /root), run the rest of the command line as the grader.
AS_GRADER = """
import os, sys
sys.path.insert(0, {sandbox!r})
import launch
launch._check(launch.LIBC.unshare(launch.CLONE_NEWNS), "unshare")
launch._mount(None, "/", None, launch.MS_REC | launch.MS_PRIVATE, None)
launch.open_up({paths!r})
uid, gid = sys.argv[1:3]
os.execvp("setpriv", ["setpriv", "--reuid", uid, "--regid", gid, "--clear-groups", "--", *sys.argv[3:]])
"""


def run_as(grader, script, timeout=120):
    """Run the Python `script` as `grader`, with its home as HOME and TMPDIR; (exit code, stdout, stderr)."""
    path = grader.home / "script.py"
    path.write_text(textwrap.dedent(script))
    os.chown(path, grader.uid, grader.gid)
    paths = sorted({sys.base_prefix, sys.prefix, os.path.realpath(sys.executable), str(REPOSITORY)})
    env = {"PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin", "HOME": str(grader.home),
           "TMPDIR": str(grader.home), "MPLBACKEND": "Agg", "PYTHONPATH": str(REPOSITORY), "LANG": "C.UTF-8"}
    done = subprocess.run([sys.executable, "-c", AS_GRADER.format(sandbox=SANDBOX_CODE, paths=paths),
                           str(grader.uid), str(grader.gid), sys.executable, str(path)],
                          env=env, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


# As the grader: check the sandbox as `autograder grade` does, then start a cold kernel and a warm
# one as grading does, run CELL in each, and describe every process under the kernel from outside.
KERNELS_OF_A_GRADER = """
    import asyncio, json, os, sys
    import psutil
    from autograder.grade.autograde import STARTUP_FILES
    from autograder.sandbox import launch
    from autograder.sandbox.kernel import SandboxedKernelManager
    from autograder.sandbox.policy import Sandbox, check_available
    from autograder.sandbox.pool import KernelPool

    CELL = {cell!r}

    def status(pid):
        with open(f"/proc/{{pid}}/status") as handle:
            return {{line.split(":")[0]: line.split(":", 1)[1].split() for line in handle}}

    async def kernel(pool):
        manager = SandboxedKernelManager(sandbox=Sandbox(memory_bytes=1 << 30), startup_files=STARTUP_FILES,
                                         pool=pool, kernel_name="python3")
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            printed = []
            reply = await client.execute_interactive(CELL, timeout=60, output_hook=lambda message: printed.append(
                message["content"].get("text", message["content"].get("evalue", ""))))
            leader = manager.provisioner.process.pid
            processes = [{{key: status(child.pid)[key] for key in ("Uid", "Gid", "Groups", "CapEff", "NSpid")}}
                         for child in psutil.Process(leader).children(recursive=True)]
            return {{"status": reply["content"]["status"], "printed": "".join(printed), "leader": leader,
                    "processes": processes}}
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    check_available()
    pool = KernelPool(Sandbox())
    try:
        found = {{"mappable": launch.kernel_ids_mappable(), "bound": launch.process_bound(),
                 "cold": asyncio.run(kernel(None)), "warm": asyncio.run(kernel(pool))}}
    finally:
        pool.stop()
    print(json.dumps(found))
"""

SAYS_ITS_UID = "import os, numpy; print(os.getuid(), os.getgid(), int(numpy.ones(3).sum()))"


def kernels_of(grader, cell):
    """What `KERNELS_OF_A_GRADER` found for `grader`, and what it wrote on stderr."""
    code, out, err = run_as(grader, KERNELS_OF_A_GRADER.format(cell=cell))
    assert code == 0, err
    return json.loads(out.splitlines()[-1]), err


def kernel_and_first_process(found):
    """(the kernel's processes, the pid namespace's first process) among `found`'s."""
    first = [p for p in found["processes"] if p["NSpid"][-1] == "1"]
    others = [p for p in found["processes"] if p["NSpid"][-1] != "1"]
    assert len(first) == 1 and others, found
    return others, first[0]


def test_a_grader_with_a_subordinate_range_gives_its_kernels_ids_from_it(grader):
    """A grader that is not root, with a range in /etc/subuid and /etc/subgid: its cold and warm
    kernels, seen from outside, have a uid and gid in that range (start + (pid - 1) mod count),
    neither the grader's nor 0, no group and no capability, and still run numpy; the grader
    reaches their sockets, and check_available warns of nothing."""
    needed("newuidmap", "newgidmap")
    with subordinate_range(grader.name, SUBORDINATE_START, SUBORDINATE_COUNT):
        found, err = kernels_of(grader, SAYS_ITS_UID)
    assert "warning" not in err, err
    assert found["mappable"] and "RLIMIT_NPROC on the kernel's own uid" in found["bound"], found
    for kind in ("cold", "warm"):
        kernel = found[kind]
        assert kernel["status"] == "ok", kernel
        inside = 1 + (kernel["leader"] - 1) % SUBORDINATE_COUNT
        assert kernel["printed"].split() == [str(inside), str(inside), "3"], kernel
        processes, first = kernel_and_first_process(kernel)
        for process in processes:
            ids = {int(value) for value in process["Uid"] + process["Gid"]}
            assert ids == {SUBORDINATE_START + inside - 1}, (kind, process)
            assert not ids & {0, grader.uid, grader.gid}
            assert process["Groups"] == [] and int(process["CapEff"][0], 16) == 0, (kind, process)
        assert {int(value) for value in first["Uid"]} == {grader.uid}  # it sets the sandbox up, inside 0
    assert not has_a_range(grader)  # the line is gone


def test_a_grader_without_a_range_warns_and_its_kernels_cannot_change_its_files(grader):
    """Without a range its kernels keep the grader's uid, so they own the grader's files, and
    Landlock has no right for a file's mode or times: a cold and a warm kernel each try to chmod,
    touch and write a file of the grader's outside their folders, and find it on a read-only
    filesystem; the file is unchanged. They hold no capability. check_available prints the one-line
    warning saying what is missing and how to get it."""
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
    assert not has_a_range(grader)
    found, err = kernels_of(grader, cell)
    assert not found["mappable"] and "on the grader's uid" in found["bound"], found
    for kind in ("cold", "warm"):
        kernel = found[kind]
        assert kernel["status"] == "ok", kernel
        assert kernel["printed"].split("\n")[:4] == [
            # Not in the kernel's own root at all (launch.enter_new_root); read-only besides.
            "chmod No such file or directory", "utime No such file or directory", "write No such file or directory",
            f"uid {grader.uid} 0000000000000000"], (kind, kernel["printed"])
    after = notes.stat()
    assert (after.st_mode, after.st_mtime_ns, notes.read_text()) == (before.st_mode, before.st_mtime_ns, "the grader's")
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: kernels keep the grader's uid"), err
    assert str(SUBUID) in warnings[0] and ("apt install uidmap" in warnings[0]
                                                  or f"{grader.name} has no range" in warnings[0]), warnings


# --- which cgroup v2 groups are delegated ---

# As root, in a mount namespace of its own: a private cgroup2 mount, and under it real groups:
# plain, marked (trusted.delegate, user.delegate, as systemd's Delegate=yes), and given to the
# grader (folder and files, or the folder alone). Each is judged by launch.cgroup_v2_delegated
# as root and as the grader; then a process placed in the plain and the marked group, with the
# cgroup v1 pids controller read-only, says where sandboxes' pids groups would go.
CGROUP_DECISIONS = """
import json, os, subprocess, sys, tempfile, time
sys.path.insert(0, {sandbox!r})
import launch
uid, gid = {uid}, {gid}
launch._check(launch.LIBC.unshare(launch.CLONE_NEWNS), "unshare")
launch._mount(None, "/", None, launch.MS_REC | launch.MS_PRIVATE, None)
point = tempfile.mkdtemp(prefix="kit-cgroup2-")
launch._mount("none", point, "cgroup2", 0, None)
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
JUDGE = ("import json, sys; sys.path.insert(0, {sandbox!r}); import launch; "
         "print(json.dumps({{n: launch.cgroup_v2_delegated(p) for n, p in json.loads(sys.argv[1])}}))")
PLACED = ("import json, os, sys; sys.path.insert(0, {sandbox!r}); import launch; "
          "open(os.path.join(sys.argv[1], 'cgroup.procs'), 'w').write(str(os.getpid())); "
          "print(json.dumps([*launch.locate_sandbox_groups(), launch.process_bound(), "
          "launch.join_pids_cgroup({{'processes': 8}})]))")
try:
    found = {{"cgroup v1": os.path.isdir(launch.V1_PIDS),
             "as root": {{name: launch.cgroup_v2_delegated(path) for name, path in judged}},
             "writable, as root": {{name: os.access(os.path.join(path, "cgroup.procs"), os.W_OK) for name, path in judged}},
             "as the grader": json.loads(subprocess.run(
                 ["setpriv", "--reuid", str(uid), "--regid", str(gid), "--clear-groups", sys.executable, "-I", "-c",
                  JUDGE, json.dumps(judged)], capture_output=True, text=True, check=True).stdout)}}
    if found["cgroup v1"]:  # read-only here, so that the sandbox looks for a cgroup v2 group
        launch._mount(None, launch.V1_PIDS, None, launch.MS_REMOUNT | launch.MS_BIND | launch.MS_RDONLY
                      | launch.MS_NOSUID | launch.MS_NODEV | launch.MS_NOEXEC, None)
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
    launch.LIBC.umount2(point.encode(), 0)
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
