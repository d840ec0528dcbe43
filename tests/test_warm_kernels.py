"""Warm kernels: forked from a preloaded process, each as fresh and as sandboxed as a started one."""

import asyncio
import json
import os
import signal

import nbformat
import psutil
import pytest

from autograder.assignments.optimization_methods import NAME as ASSIGNMENT
from autograder.course import Course
from autograder.grade.autograde import STARTUP_FILES
from autograder.grade.batch import grade_assignment
from autograder.assignments.optimization_methods.sample_class import WRONG
from autograder.sandbox.kernel import SandboxedKernelManager
from autograder.sandbox.policy import Sandbox
from autograder.sandbox.warm_kernels import KernelForkServer
from autograder.sandbox.lifetime import processes_naming
from course import make_course, release_notebook, solved_notebook, submit, with_answer

INLINE = "module://matplotlib_inline.backend_inline"


@pytest.fixture
def pool():
    pool = KernelForkServer(Sandbox(environment={"MPLBACKEND": INLINE}))
    yield pool
    pool.stop()


class Kernel:
    """A kernel forked from `pool`, and a way to run code in it."""

    def __init__(self, pool, files=()):
        sandbox = Sandbox(memory_bytes=1 << 30, files=list(files), environment={"MPLBACKEND": INLINE})
        self.manager = SandboxedKernelManager(sandbox=sandbox, startup_files=STARTUP_FILES, fork_server=pool,
                                              kernel_name="python3")

    async def __aenter__(self):
        await self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=60)
        return self

    async def __aexit__(self, *exc):
        self.client.stop_channels()
        await self.manager.shutdown_kernel(now=True)

    async def run(self, code):
        """The messages `code` published: its printed text, and the mime types it displayed."""
        printed, shown = [], []

        def hook(message):
            if message["msg_type"] == "stream":
                printed.append(message["content"]["text"])
            elif message["msg_type"] in ("display_data", "execute_result"):
                shown.extend(message["content"]["data"])
            elif message["msg_type"] == "error":
                printed.append(f"{message['content']['ename']}: {message['content']['evalue']}")
        await self.client.execute_interactive(code, output_hook=hook, timeout=60)
        return "".join(printed), shown

    async def value(self, expression):
        printed, _ = await self.run(f"import json as _json; print(_json.dumps({expression}))")
        return json.loads(printed)


def run(coroutine):
    return asyncio.run(coroutine)


IDENTITY = ("{'draw': float(__import__('numpy').random.rand()), 'files': sorted(__import__('os').listdir('.'))}")
TRACES = """
import builtins, os, subprocess, numpy, sys
builtins.kit_trace = 'left by the last submission'
numpy.kit_trace = 1
os.environ['KIT_TRACE'] = '1'
open('trace.txt', 'w').write('left')
sys.modules['kit_trace'] = numpy
import ctypes
assert ctypes.CDLL(None).shmget(0x4B4954, 4096, 0o1600) >= 0  # System V memory outlives its process
subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)  # kit trace'], start_new_session=True)
import time; time.sleep(0.5)
"""
FIND_TRACES = ("[name for name, found in ("
               "('builtins', hasattr(__import__('builtins'), 'kit_trace')), "
               "('numpy', hasattr(__import__('numpy'), 'kit_trace')), "
               "('environment', 'KIT_TRACE' in __import__('os').environ), "
               "('file', __import__('os').path.exists('trace.txt')), "
               "('module', 'kit_trace' in __import__('sys').modules), "
               "('shared memory', __import__('ctypes').CDLL(None).shmget(0x4B4954, 0, 0) >= 0), "
               "('process', any('kit trace' in open(f'/proc/{p}/cmdline').read() for p in __import__('os').listdir('/proc') if p.isdigit())),"
               ") if found]")


def test_every_kernel_is_fresh_and_leaves_nothing_to_the_next(pool):
    async def scenario():
        async with Kernel(pool) as first:
            one = await first.value(IDENTITY)
            await first.run(TRACES)
            assert await first.value(FIND_TRACES) == ["builtins", "numpy", "environment", "file", "module",
                                                       "shared memory", "process"]
        async with Kernel(pool) as second:
            two = await second.value(IDENTITY)
            assert await second.value(FIND_TRACES) == []
        return one, two

    one, two = run(scenario())
    assert pool.starts == 1  # both came from the same kernel fork server
    assert one["draw"] != two["draw"]  # numpy drew fresh entropy in each
    assert one["files"] == two["files"]
    assert not processes_naming("kit trace")


def test_a_warm_kernel_behaves_like_a_started_one(pool, tmp_path):
    released = tmp_path / "helper.py"
    released.write_text("ANSWER = 42\n")

    async def scenario():
        async with Kernel(pool, files=[(str(released), "helper.py")]) as kernel:
            facts = await kernel.value(
                "{'cwd': __import__('os').getcwd(), 'path0': __import__('sys').path[0], "
                "'home': __import__('os').environ['HOME'], 'execution': __import__('os').environ.get('NBGRADER_EXECUTION'),"
                "'answer': __import__('helper').ANSWER, 'tmp': __import__('tempfile').gettempdir(), "
                "'pid': __import__('os').getpid(), 'guarded': __import__('os')._exit.__name__}")
            printed, shown = await kernel.run("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")
            outside, _ = await kernel.run("open('/etc/passwd').read()")
            return facts, shown, outside

    facts, shown, outside = run(scenario())
    assert facts["cwd"] == facts["path0"] == facts["home"] and facts["tmp"] == facts["cwd"] + "/.tmp"
    assert facts["answer"] == 42 and facts["pid"] == 2  # the kernel under its namespace's first process
    assert facts["guarded"] == "call"  # the start-up files ran
    assert "image/png" in shown  # matplotlib's inline backend hooked into this kernel's shell
    assert outside.startswith("FileNotFoundError")  # the kernel's root holds only what it needs


def test_the_kernel_fork_server_is_replaced_after_a_kernel_or_it_dies(pool):
    async def scenario():
        async with Kernel(pool) as doomed:
            doomed.client.execute("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
            for _ in range(100):
                if not await doomed.manager.is_alive():
                    break
                await asyncio.sleep(0.1)
            assert not await doomed.manager.is_alive()
        async with Kernel(pool) as after_kernel:
            assert await after_kernel.value("1 + 1") == 2
        os.kill(pool.process.pid, signal.SIGKILL)
        pool.process.wait()
        async with Kernel(pool) as after_pool:
            assert await after_pool.value("2 + 2") == 4

    run(scenario())
    assert pool.starts == 2


def test_the_kernel_fork_server_holds_no_student_code_and_one_thread(pool):
    async def scenario():
        async with Kernel(pool) as kernel:
            await kernel.run("import numpy; numpy.kit_trace = 1")
    run(scenario())
    server = psutil.Process(pool.process.pid)
    assert server.num_threads() == 1  # fork copies one thread: nothing may run beside it
    assert not [child for child in server.children(recursive=True) if child.is_running()
                and child.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
def test_warm_and_cold_kernels_give_the_same_grades(tmp_path):
    course = make_course(tmp_path / "course")
    right, wrong = solved_notebook(), solved_notebook()
    variant = next(v for v in WRONG if v.function == "update_parameters_with_adam")
    with_answer(wrong, variant.function, variant.source)
    for student, notebook in (("right", right), ("wrong", wrong), ("blank", release_notebook())):
        submit(course, student, notebook)
    grades = {}
    for warm in (True, False):
        results, _ = grade_assignment(Course.open(course), ASSIGNMENT, jobs=2, progress=False, force=True, warm=warm)
        grades[warm] = {r.student: (r.status, r.scores, r.messages) for r in results}
    assert grades[True] == grades[False]
    assert sum(grades[True]["right"][1].values()) == 100 and sum(grades[True]["blank"][1].values()) == 0
    assert 0 < sum(grades[True]["wrong"][1].values()) < 100


@pytest.mark.slow
def test_one_worker_grades_each_submission_in_a_kernel_of_its_own(tmp_path):
    course = make_course(tmp_path / "course")
    probe = ("import builtins, os\n"
             "print('seen before:', hasattr(builtins, 'kit_token'))\n"
             "builtins.kit_token = os.urandom(8).hex()\n"
             "print('kernel:', builtins.kit_token, os.getpid())")
    for student in ("first", "second", "third"):
        notebook = solved_notebook()
        notebook.cells.append(nbformat.v4.new_code_cell(probe))
        submit(course, student, notebook)
    results, _ = grade_assignment(Course.open(course), ASSIGNMENT, jobs=1, progress=False)
    printed = {}
    for result in results:
        cell = nbformat.read(course / "autograded" / result.student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                             as_version=4).cells[-1]
        printed[result.student] = "".join(output.get("text", "") for output in cell.outputs).split()
        assert sum(result.scores.values()) == 100
    assert all(words[:3] == ["seen", "before:", "False"] for words in printed.values())
    assert len({words[4] for words in printed.values()}) == 3  # three kernels, none reused


@pytest.fixture
def shared():
    """A kernel fork server started as a worker fork server starts the one its workers share."""
    owner = KernelForkServer(Sandbox(environment={"MPLBACKEND": INLINE}))
    owner.launch()
    owner.wait_ready()
    yield owner
    owner.stop()


def alive(kernel):
    return psutil.pid_exists(kernel.manager.provisioner.process.pid) and kernel.manager.provisioner.process.poll() is None


def test_workers_share_a_kernel_fork_server_and_each_takes_only_its_own_kernels_along(shared):
    one, two = (KernelForkServer(Sandbox(environment={"MPLBACKEND": INLINE}), shared=str(shared.control)) for _ in range(2))

    async def scenario():
        async with Kernel(one) as mine, Kernel(two) as theirs:
            assert await mine.value("1 + 1") == 2 and await theirs.value("2 + 2") == 4
            server = psutil.Process(shared.process.pid)
            leaders = {child.pid for child in server.children()}
            assert {mine.manager.provisioner.process.pid, theirs.manager.provisioner.process.pid} <= leaders
            # A worker that dies closes its connection: the kernel fork server kills that worker's kernels.
            one._disconnect()
            for _ in range(100):
                if not alive(mine):
                    break
                await asyncio.sleep(0.05)
            assert not alive(mine)
            assert await theirs.value("3 + 3") == 6

    try:
        run(scenario())
        assert one.starts == two.starts == 0  # neither started a kernel fork server of its own
    finally:
        one.stop()
        two.stop()


def test_a_worker_whose_shared_kernel_fork_server_died_starts_its_own(shared):
    pool = KernelForkServer(Sandbox(environment={"MPLBACKEND": INLINE}), shared=str(shared.control))

    async def scenario():
        async with Kernel(pool) as kernel:
            assert await kernel.value("1 + 1") == 2
        shared.process.kill()
        shared.process.wait()
        async with Kernel(pool) as kernel:
            assert await kernel.value("2 + 2") == 4

    try:
        run(scenario())
        assert pool.starts == 1 and pool.process is not None
    finally:
        pool.stop()


FORK_REQUEST = """
import json, socket
client = socket.socket(socket.AF_UNIX)
try:
    client.connect({control!r})
    client.sendall(json.dumps({{"spec": {{}}, "argv": []}}).encode() + b"\\n")
    client.settimeout(5)
    print("answered" if client.recv(4096) else "refused")
except OSError as error:
    print("cannot connect", type(error).__name__)
"""


def test_a_kernel_cannot_ask_the_kernel_fork_server_for_anything(pool):
    async def scenario():
        async with Kernel(pool) as kernel:
            await kernel.value("1")
            printed, _ = await kernel.run(FORK_REQUEST.format(control=str(pool.control)))
            return printed

    printed = run(scenario())
    # Landlock (ABI 7) does not govern connecting to a unix socket by path; the kernel's own root
    # (`mounts.enter_new_root`) holds no path to the kernel fork server's socket.
    expected = {"cannot connect FileNotFoundError"}
    assert printed.strip() in expected, printed
