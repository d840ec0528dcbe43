"""What a grading kernel may read, write and use, and the command that starts it sandboxed.

The sandbox itself is the launcher, `launch` (namespaces, a private /proc and tmpfs, rlimits, a
pids cgroup, Landlock and a uid of the kernel's own where the grader is root or has subordinate
ids, else a read-only filesystem outside the kernel's folders); this module decides its
contents: the Python runtime and the libraries the kernel imports (read-only), a size-capped
work folder holding the released assignment's files (its only writable place), a folder for
the kernel's unix sockets, and an allow-listed environment. The kit's own packages
(`autograder`, `solutions`) are never readable from inside.
"""

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..defaults import (KERNEL_CPU_SECONDS, KERNEL_MEMORY_BYTES, KERNEL_OPEN_FILES, KERNEL_PROCESSES,
                        KERNEL_WORK_BYTES)
from . import cgroups

LAUNCHER = Path(__file__).with_name("launch.py")
SYSTEM_READ = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache",
               "/etc/localtime", "/usr/share/zoneinfo", "/proc", "/dev/urandom", "/dev/zero",
               "/sys/devices/system/cpu")
SYSTEM_WRITE = ("/dev/null",)
PRIVATE_PACKAGES = ("autograder", "solutions")  # the hidden checks and the reference
PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ", "MPLBACKEND")
# The operator's switch for hosts where the sandbox must make no cgroup (``off``): processes are
# then bounded by RLIMIT_NPROC alone, which binds the kernel's own uid (see `launch`, `cgroups`).
CGROUPS_VARIABLE = "AUTOGRADER_SANDBOX_CGROUPS"


def pids_group(pid):
    """The pids cgroup of the sandbox whose outermost process is `pid` (made by the launcher,
    `cgroups.join_pids_cgroup`), or None where sandboxes get none."""
    group = cgroups.pids_group(pid)
    return Path(group) if group else None


def cgroups_wanted():
    """Whether sandboxes may make pids cgroups: unless the environment's `CGROUPS_VARIABLE` is ``off``."""
    return os.environ.get(CGROUPS_VARIABLE, "").strip().lower() != "off"


class SandboxUnavailable(Exception):
    """The sandbox cannot be set up on this machine; the message says what is missing."""


def runtime_paths():
    """The interpreter and its libraries: the base installation and the virtual environment."""
    paths = {sys.base_prefix, sys.prefix + "/bin", os.path.join(sys.prefix, "pyvenv.cfg"),
             sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], sys.executable}
    return sorted({os.path.realpath(p) for p in paths} | paths)


def private_package_folders(readable):
    """Folders of the kit's private packages that lie inside a readable path (a non-editable install)."""
    folders = []
    for name in PRIVATE_PACKAGES:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            real = os.path.realpath(location)
            if any(real == p or real.startswith(p.rstrip("/") + "/") for p in readable):
                folders.append(real)
    return folders


@dataclass
class Sandbox:
    """The limits of one grading kernel.

    Attributes
    ----------
    memory_bytes : int
        Address-space limit of every process in the sandbox.
    processes : int
        Most processes (and threads) alive at once in the sandbox.
    work_bytes : int
        Size of the work folder, the only place it can write to (a tmpfs).
    files : list of (str, str)
        (host path, path in the work folder) copied in before the kernel starts.
    environment : dict
        Extra variables on top of the allow-listed ones.
    readable : list of str
        Extra host folders it may read.
    cgroups : bool
        Whether the sandbox may have a pids cgroup of its own (`cgroups_wanted` by default);
        RLIMIT_NPROC bounds its processes either way.
    """

    memory_bytes: int = KERNEL_MEMORY_BYTES
    processes: int = KERNEL_PROCESSES
    work_bytes: int = KERNEL_WORK_BYTES
    cpu_seconds: int = KERNEL_CPU_SECONDS
    files: list = field(default_factory=list)
    environment: dict = field(default_factory=dict)
    readable: list = field(default_factory=list)
    cgroups: bool = field(default_factory=cgroups_wanted)

    def spec(self, work, sockets):
        readable = [p for p in runtime_paths() + list(SYSTEM_READ) + self.readable if os.path.exists(p)]
        env = {"PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin", "HOME": str(work),
               "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8", "TMPDIR": f"{work}/.tmp",
               "MPLCONFIGDIR": f"{work}/.matplotlib", "IPYTHONDIR": f"{work}/.ipython",
               "JUPYTER_CONFIG_DIR": f"{work}/.jupyter", "JUPYTER_RUNTIME_DIR": f"{work}/.tmp",
               "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               **{k: os.environ[k] for k in PASSED_THROUGH if k in os.environ},
               **self.environment}
        return {"read": readable, "write": list(SYSTEM_WRITE), "sockets": [str(sockets)], "work": str(work),
                "work_bytes": self.work_bytes, "copy": [[str(a), str(b)] for a, b in self.files],
                "hide": private_package_folders(readable), "env": env,
                "memory_bytes": self.memory_bytes, "processes": self.processes, "file_bytes": self.work_bytes,
                "open_files": KERNEL_OPEN_FILES, "cpu_seconds": self.cpu_seconds, "cgroups": self.cgroups}

    def command(self, argv, work, sockets):
        """`argv` wrapped in the launcher; the spec is written next to the socket folder."""
        spec_file = Path(sockets).parent / "sandbox.json"
        spec_file.write_text(json.dumps(self.spec(work, sockets)))
        return [sys.executable, "-I", "-S", str(LAUNCHER), str(spec_file), "--", *argv]




def check_available():
    """Raise `SandboxUnavailable`, saying what is missing, unless a sandboxed Python starts here
    and finds itself without network, without the kit's packages and unable to write outside.
    Where its kernels would keep the grader's uid (not root, no subordinate ids), print the
    launcher's one-line warning on stderr, saying what is missing and how to get it."""
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"the sandbox needs Linux (namespaces and Landlock); this is {sys.platform}")
    probe = ("import os, socket, sys\n"
             "try:\n    socket.create_connection(('127.0.0.1', 9), timeout=1); sys.exit('network reachable')\n"
             "except OSError: pass\n"
             f"try:\n    open({str(Path(tempfile.gettempdir()) / 'autograder-probe')!r}, 'w'); "
             "sys.exit('can write outside its folder')\nexcept OSError: pass\n"
             "print('sandbox ok')\n")
    with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as folder:
        work, sockets = Path(folder) / "work", Path(folder) / "sockets"
        work.mkdir()
        sockets.mkdir()
        command = Sandbox(memory_bytes=1 << 30).command([sys.executable, "-c", probe], work, sockets)
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if done.returncode != 0 or "sandbox ok" not in done.stdout:
        said = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise SandboxUnavailable(f"the grading sandbox cannot be set up here: {said}")
    for line in done.stderr.splitlines():  # what the launcher says its kernels lack (`namespaces.protection_warning`)
        if line.startswith("sandbox: warning: "):
            sys.stderr.write(line[len("sandbox: "):] + "\n")


def grading_sandbox(wanted=True, required=True):
    """Whether to grade in the sandbox here: the one rule every way of grading follows.

    Grading runs students' code in the sandbox. It runs without one only where whoever grades said
    so beforehand: ``--no-sandbox`` on the command line (the coordinator passes it to Dask workers
    in each task), or a Gradescope zip built without ``--require-sandbox`` on a platform that allows
    none. A result graded without the sandbox records it, and every page and export says so.

    Parameters
    ----------
    wanted : bool
        False where the grader turned the sandbox off (``--no-sandbox``): it is not even checked.
    required : bool
        Refuse to grade where it is wanted but cannot be set up (else grade without it, and say why).

    Returns
    -------
    (bool, str)
        Whether to use it, and why not ("" when it is used).

    Raises
    ------
    SandboxUnavailable
        Where it is wanted and required but this machine cannot set it up.
    """
    if not wanted:
        return False, "turned off (--no-sandbox)"
    try:
        check_available()
    except SandboxUnavailable as error:
        if required:
            raise
        return False, str(error)
    return True, ""
