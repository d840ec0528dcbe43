"""Submissions written to get points without the work, or to hurt the grader.

Each `Attack` is a notebook: the solved or the untouched release (`base`), with answer cells
replaced (`answers`) and one extra code cell (`cell`) placed right after the imports. Sources
are `string.Template`s: ``$marker`` (a unique word to find leftovers by), ``$port`` (a loopback
listener the test opens), ``$secret_file``, ``$course`` and ``$bystander`` (another student)
are filled in by the test. `earns` is what the attack's honest part earns: an attack on the
release earns 0, one added to the solved notebook 100 (less only where it breaks its own code),
and it must leave nothing behind. `stopped_by` says what stops it, for the README's table.
"""

from dataclasses import dataclass, field
from string import Template

import nbformat

from solutions import GRADED_FUNCTIONS

from autograder.assignments.optimization_methods.sample_class import release_notebook, solved_notebook, with_answer


@dataclass(frozen=True)
class Attack:
    name: str
    category: str
    base: str
    cell: str = ""
    answers: dict = field(default_factory=dict)
    earns: float = 0.0
    stopped_by: str = ""
    cell_nbgrader: dict = field(default_factory=dict)  # nbgrader metadata the extra cell pretends to have

    def notebook(self, **values):
        notebook = solved_notebook() if self.base == "solved" else release_notebook()
        for function, source in self.answers.items():
            with_answer(notebook, function, Template(source).substitute(values))
        if self.cell:
            index = next(i for i, c in enumerate(notebook.cells)
                         if c.metadata.get("nbgrader", {}).get("grade_id") == "imports")
            cell = nbformat.v4.new_code_cell(Template(self.cell).substitute(values))
            if self.cell_nbgrader:
                cell.metadata["nbgrader"] = dict(self.cell_nbgrader)
            notebook.cells.insert(index + 1, cell)
        return notebook


VERDICTS = "the verdict is made in the grader's process from values the functions return"
SANDBOX_FS = "Landlock: the kernel reads only the runtime, the libraries and the released files"

GD_HARD_CODED = '''
def update_parameters_with_gd(parameters, grads, learning_rate):
    from opt_utils.visible import load_expected
    return load_expected()["update_parameters_with_gd"]["parameters"]
'''
ADAM_HARD_CODED = '''
def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    from opt_utils.visible import load_expected
    expected = load_expected()["update_parameters_with_adam"]
    return expected["parameters"], expected["v"], expected["s"]
'''
VELOCITY_HARD_CODED = '''
def initialize_velocity(parameters):
    from opt_utils.visible import load_expected
    return load_expected()["initialize_velocity"]["v"]
'''
FAKE_ARRAYS = '''
class Always(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)
    def __ne__(self, other):
        return np.zeros(np.shape(self), dtype=bool)

def update_parameters_with_gd(parameters, grads, learning_rate):
    return {key: np.asarray(value).view(Always) for key, value in parameters.items()}
'''
FAKE_DICT = '''
class Anything(dict):
    def __eq__(self, other):
        return True
    def __contains__(self, key):
        return True
    def __getitem__(self, key):
        return np.zeros((1, 1))

def initialize_velocity(parameters):
    return Anything()
'''
MARKUP = '''
def update_parameters_with_gd(parameters, grads, learning_rate):
    raise ValueError("<img src=x onerror=alert(1)><script>alert('$marker')</script>")
'''

# Outputs that would run script where the instructor opens the autograded notebook (formgrader,
# JupyterLab), each setting a global named by the marker.
SCRIPT_FOR_THE_INSTRUCTOR = '''
from IPython.display import HTML, Javascript, Markdown, display
display(HTML('<img src=x onerror="window.$marker=1"><b>kept</b>'))
display(Javascript('window.$marker=2'))
display({'image/svg+xml': '<svg xmlns="http://www.w3.org/2000/svg" onload="window.$marker=3"/>'}, raw=True)
display(Markdown('<script>window.$marker=4</script> [a link](javascript:window.$marker=5)'))
display({'text/html': '<iframe srcdoc="<script>parent.$marker=6</script>"></iframe>'}, raw=True)
'''

# A notebook can reach the harness's functions through the kernel's event loop, which holds its
# socket handlers, and the variables they share through their closures.
REFERENCE_IMPORT = '''
for name in ("solutions", "autograder.assignments", "autograder.checks", "autograder"):
    try:
        exec(f"from {name} import *")
        print("imported", name)
    except Exception as error:
        print("cannot import", name, type(error).__name__)
'''
SOURCE_NOTEBOOK_ON_DISK = '''
import glob, json
paths = glob.glob("/tmp/**/source/**/*.ipynb", recursive=True) + glob.glob("$course/source/**/*.ipynb", recursive=True)
for path in paths:
    try:
        for cell in json.load(open(path))["cells"]:
            text = "".join(cell["source"])
            if "### BEGIN SOLUTION" in text:
                exec(text.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""), globals())
    except Exception as error:
        print("cannot read", path, type(error).__name__)
print("found", len(paths))
'''
HARNESS_CLOSURES = '''
from tornado.ioloop import IOLoop
def _cell(function, name):
    return function.__closure__[function.__code__.co_freevars.index(name)]
_accept = next(h for _, h in IOLoop.current().handlers.values() if getattr(h, "__name__", "") == "accept")
_serve = _cell(_accept, "serve").cell_contents
'''


ATTACKS = [
    # Forging a verdict inside the kernel: nothing of the sort reaches the grader's process.
    Attack("fake_checker_module", "forging", "blank", '''
import sys, types
fake = types.ModuleType("autograder.assignments")
fake.run_check = lambda assignment, function, name, namespace: print(f"✓ {function}: {name}")
sys.modules["autograder"] = types.ModuleType("autograder")
sys.modules["autograder.assignments"] = fake
''', stopped_by=VERDICTS + "; the kernel never runs a hidden test cell"),
    Attack("input_transformer_blanks_tests", "forging", "blank", '''
def blank(lines):
    text = "".join(lines)
    return ["pass\\n"] if any(word in text for word in ("run_check", "__kit_call__", "check_visible")) else lines
get_ipython().input_transformers_post.append(blank)
get_ipython().input_transformers_cleanup.append(blank)
''', stopped_by=VERDICTS + "; a call that publishes no reply fails"),
    Attack("custom_exception_handler", "forging", "blank", '''
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: print("✓ passed"))
''', stopped_by=VERDICTS),
    Attack("exit_handlers_and_trace", "forging", "blank", '''
import atexit, sys
atexit.register(lambda: print("✓ everything passed"))
sys.settrace(lambda frame, event, arg: None)
sys.excepthook = lambda *args: print("✓ passed")
''', stopped_by=VERDICTS),
    Attack("patched_numpy", "forging", "blank", '''
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.testing.assert_allclose = lambda *args, **kwargs: None
''', stopped_by=VERDICTS + " with the grader's own numpy"),
    Attack("patched_builtins", "forging", "blank", '''
import builtins
builtins.isinstance = lambda obj, kind: True
builtins.len = lambda obj: 4
''', stopped_by=VERDICTS),
    Attack("patched_visible_check", "forging", "blank", '''
import opt_utils, opt_utils.visible, opt_utils.compare
opt_utils.visible.check_visible = lambda function, *results: print(f"✓ {function}: all visible checks passed")
opt_utils.compare.expect_dict = lambda *args, **kwargs: True
check_visible = opt_utils.visible.check_visible
''', stopped_by="the visible cell's verdict is made in the grader too"),
    Attack("forged_harness_reply", "forging", "blank", HARNESS_CLOSURES + '''
def _forged(request, frames):
    return {"args": request["args"], "returned": request["args"][0] if request["args"] else None}, frames
_cell(_serve, "answer").cell_contents = _forged
''', stopped_by=VERDICTS + ": a forged reply is data like any other, and wrong"),
    Attack("made_up_grade_cell", "forging", "blank", '''
print("✓ update_parameters_with_adam: all visible checks passed")
''', cell_nbgrader={"grade": True, "grade_id": "extra_points", "points": 100, "locked": False, "solution": False,
                   "schema_version": 3}, stopped_by="nbgrader metadata the release does not have is removed; graded cells hold the grader's verdict"),
    Attack("hard_coded_visible_outputs", "forging", "blank",
           answers={"update_parameters_with_gd": GD_HARD_CODED, "update_parameters_with_adam": ADAM_HARD_CODED,
                    "initialize_velocity": VELOCITY_HARD_CODED},
           stopped_by="the visible points need the same test right on inputs the student has not seen"),
    Attack("fake_array_types", "forging", "blank",
           answers={"update_parameters_with_gd": FAKE_ARRAYS, "initialize_velocity": FAKE_DICT},
           stopped_by="only numbers, strings, arrays, dicts, lists and tuples cross the wire; anything else is opaque"),
    # In every answer cell, so that what it finds is what each graded function is when judged.
    Attack("reference_import", "forging", "blank", answers={function: REFERENCE_IMPORT for function in GRADED_FUNCTIONS},
           stopped_by=SANDBOX_FS + " (the kit's packages are not among them)"),
    Attack("source_notebook_on_disk", "forging", "blank",
           answers={function: SOURCE_NOTEBOOK_ON_DISK for function in GRADED_FUNCTIONS}, stopped_by=SANDBOX_FS),
    Attack("find_and_patch_the_harness", "forging", "blank", '''
from tornado.ioloop import IOLoop
_loop = IOLoop.current()
for _fd, (_, _handler) in list(_loop.handlers.items()):
    if getattr(_handler, "__name__", "") in ("accept", "handle"):
        _loop.remove_handler(_fd)  # no replies at all
''', stopped_by=VERDICTS + "; a call that gets no reply counts as not working, without waiting for the time limit"),
    Attack("reseeding", "honest", "solved", '''
np.random.seed(2024)
_ = np.random.rand(7)
''', earns=100, stopped_by="the checks draw inputs from private generators and compare with the reference"),
    # Reaching past the grading: the sandbox stops each.
    Attack("network_loopback", "network", "solved", '''
import socket
for host in ("127.0.0.1", "localhost", "::1"):
    try:
        socket.create_connection((host, $port), timeout=2).sendall(b"$marker")
        print("connected to", host)
    except OSError as error:
        print("no connection", type(error).__name__)
''', earns=100, stopped_by="a network namespace with no interfaces up; Landlock denies TCP bind and connect"),
    Attack("abstract_unix_socket", "network", "solved", '''
import socket
try:
    client = socket.socket(socket.AF_UNIX)
    client.connect("\\0kit-$marker")
    client.sendall(b"$marker")
    print("connected")
except OSError as error:
    print("no connection", type(error).__name__)
''', earns=100, stopped_by="Landlock scopes abstract unix sockets to the sandbox; a network namespace of its own"),
    Attack("read_private_file", "files", "solved", '''
try:
    print(open("$secret_file").read())
except OSError as error:
    print("cannot read", type(error).__name__)
''', earns=100, stopped_by=SANDBOX_FS),
    Attack("environment_and_proc", "files", "solved", '''
import os
print(dict(os.environ))
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for name in ("environ", "cmdline"):
            try:
                print(pid, name, open(f"/proc/{pid}/{name}", "rb").read())
            except OSError as error:
                print(pid, name, type(error).__name__)
''', earns=100, stopped_by="an allow-listed environment; a pid namespace and a private /proc"),
    Attack("other_submissions", "files", "solved", '''
import glob, os
for pattern in ("$course/submitted/*", "/tmp/*/submitted/*", "/tmp/**/$bystander*"):
    try:
        print(pattern, glob.glob(pattern, recursive=True))
    except OSError as error:
        print(pattern, type(error).__name__)
try:
    print(os.listdir("$course/submitted"))
except OSError as error:
    print("cannot list", type(error).__name__)
''', earns=100, stopped_by=SANDBOX_FS),
    Attack("gradebook_and_ledger", "files", "solved", '''
import json
for path, data in (("$course/gradebook.db", b"garbage"),
                   ("$course/.autograder/optimization_methods/results/$bystander.json", b'{"student": "$bystander"}')):
    try:
        with open(path, "ab") as handle:
            handle.write(data)
        print("wrote", path)
    except OSError as error:
        print("cannot write", path, type(error).__name__)
''', earns=100, stopped_by=SANDBOX_FS + "; only the coordinator writes the gradebook and the ledger"),
    Attack("installed_packages", "files", "solved", '''
import os, sys, numpy, importlib.util
targets = [os.path.join(os.path.dirname(numpy.__file__), "__init__.py"),
           os.path.join(sys.prefix, "lib", "python3.11", "site-packages", "sitecustomize.py"),
           "$course/../autograder/__init__.py"]
for path in targets:
    try:
        with open(path, "a") as handle:
            handle.write("\\nraise SystemExit('poisoned $marker')\\n")
        print("poisoned", path)
    except OSError as error:
        print("cannot write", path, type(error).__name__)
''', earns=100, stopped_by=SANDBOX_FS),
    Attack("symlink_escape", "files", "solved", '''
import os
try:
    os.symlink("$course", "course_link")
    print(os.listdir("course_link"))
except OSError as error:
    print("cannot follow", type(error).__name__)
''', earns=100, stopped_by="Landlock checks the file a link points to"),
    Attack("fill_the_disk", "resources", "solved", '''
for path in ("/tmp/$marker", "/dev/shm/$marker", "/var/tmp/$marker", "$marker-fill"):
    try:
        with open(path, "wb") as handle:
            for _ in range(256):
                handle.write(b"x" * (1 << 20))
        print("wrote 256 MiB to", path)
    except OSError as error:
        print("stopped writing", path, type(error).__name__)
''', earns=100, stopped_by="writes only in its work folder, a tmpfs of 64 MiB gone with the sandbox"),
    Attack("memory_bomb", "resources", "solved", '''
try:
    block = bytearray(20 << 30)
except MemoryError:
    print("no memory")
''', earns=100, stopped_by="RLIMIT_AS on every process of the sandbox"),
    Attack("output_flood", "resources", "solved", '''
for _ in range(32):
    print("$marker" * (1 << 17))
''', earns=100, stopped_by="a notebook keeps 4 MiB of output; the rest is dropped with a note and a warning"),
    Attack("bounded_fork_bomb", "resources", "solved", '''
import os, time
started = 0
try:
    for _ in range(2000):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        started += 1
except OSError as error:
    print("stopped after", started, type(error).__name__)
''', earns=100, stopped_by="a pids cgroup (RLIMIT_NPROC where not root) caps processes per sandbox"),
    Attack("leftover_processes", "processes", "solved", '''
import os, subprocess, sys
subprocess.Popen(["sh", "-c", "while true; do sleep 1; done", "$marker"], start_new_session=True)
for _ in range(20):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "$marker"])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "$marker"])
    os._exit(0)
print("started")
''', earns=100, stopped_by="the sandbox is a pid namespace: when its first process ends, every process in it ends"),
    Attack("kill_everything", "signals", "solved", '''
import os, signal
for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGSTOP)
    except OSError:
        pass
os.kill(-1, signal.SIGKILL)
''', earns=100, stopped_by="a pid namespace: it sees and signals only its own processes; the cell that kills "
                           "its kernel is skipped and the rest graded"),
    Attack("stray_call_replies", "forging", "solved", HARNESS_CLOSURES + '''
_send = _cell(_serve, "send")
_honest = _send.cell_contents
def _also_stray(connection, reply, frames):
    _honest(connection, reply, frames)  # the true reply first, then made-up ones
    _honest(connection, {"id": reply.get("id"), "returned": 1, "args": []}, [])
    _honest(connection, {"returned": 2, "args": []}, [])
_send.cell_contents = _also_stray
''', earns=100, stopped_by="a call takes the first reply with its own id; the rest are skipped"),
    Attack("hostile_markup", "markup", "solved", answers={"update_parameters_with_gd": MARKUP}, earns=90,
           stopped_by="every page escapes what a submission can influence"),
    Attack("script_for_the_instructor", "markup", "solved", SCRIPT_FOR_THE_INSTRUCTOR, earns=100,
           stopped_by="the autograded notebook keeps the text, raster images and cleaned HTML of what a "
                      "submission shows, nothing that runs (grade/inert.py)"),
]
