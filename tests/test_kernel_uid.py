"""A root grader's kernels run under a uid of their own: file permissions and RLIMIT_NPROC bind
them even where Landlock would allow, and where no cgroup is to be had."""

import asyncio
import os

import psutil
import pytest

from autograder.grade.autograde import STARTUP_FILES
from autograder.sandbox.launch import KERNEL_ID_BASE, kernel_ids_mappable
from autograder.sandbox.kernel import SandboxedKernelManager
from autograder.sandbox.policy import Sandbox
from test_sandbox import run_inside

pytestmark = pytest.mark.skipif(not kernel_ids_mappable(), reason="the grader is not root: the kernel keeps its uid")

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
