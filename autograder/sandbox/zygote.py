"""The warm-kernel process: it loads once what every grading kernel loads, then forks a fresh
sandboxed kernel for each submission. ``python -s zygote.py SPEC.json``, started by `launch`.

It runs in user, mount, network, IPC and UTS namespaces of its own (made by `launch`), with the
kernels' environment. It imports numpy, matplotlib and ipykernel (`PRELOAD`), hides the kit's
folders, says ``{"ready": true}`` on stdout, and then answers one request per line on stdin:
``{"spec": SPEC, "argv": KERNEL_COMMAND}`` → ``{"pid": PID}``. For each request it forks a child
that leads a process group and a pids cgroup of its own and runs `launch.run_sandboxed`: new mount, pid, network,
IPC and UTS namespaces, the kernel's first process with a private /proc and a fresh tmpfs work
folder, the rlimits and Landlock, and under all that the kernel, started in-process from the
modules already loaded (copy-on-write: nothing is imported again).

No student code ever runs in this process, so every kernel forked from it starts from the same
clean state; each kernel serves one submission and ends, and what it did dies with its
namespaces. A kernel cannot reach this process: it is outside the kernel's pid namespace, its
Landlock domain (signals, ptrace, abstract sockets) and its file rights, and the kernel holds
none of its file descriptors.
"""

import gc
import importlib
import json
import os
import signal
import sys

import launch

# What a grading kernel and the assignment's notebook import (ipykernel with its debugger and
# IPython, numpy, matplotlib's pyplot): loaded here once instead of in every kernel. matplotlib's inline backend
# is not among them: it hooks into the kernel's shell when it is first imported, in the kernel.
PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "IPython", "IPython.display", "IPython.core.completer",
           "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
           "sqlite3", "pdb", "runpy", "http.client", "psutil", "tornado.ioloop")
KERNEL_NAMESPACES = (launch.CLONE_NEWNS | launch.CLONE_NEWPID | launch.CLONE_NEWNET | launch.CLONE_NEWIPC
                     | launch.CLONE_NEWUTS)


def preload(modules):
    """Import `modules` with the kernels' environment, as a kernel would."""
    # ipykernel chooses this backend when none is set, before the notebook can import matplotlib,
    # which reads it once, when first imported: here.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in modules:
        importlib.import_module(name)


def kernel_arguments(argv):
    """The arguments after ``-m ipykernel_launcher`` in a kernel command; only ipykernel starts warm."""
    if "ipykernel_launcher" not in argv:
        raise ValueError(f"not an ipykernel command: {argv[:3]}")
    return argv[argv.index("ipykernel_launcher") + 1:]


def run_kernel(spec, arguments):
    """In the sandbox: become a fresh kernel, as ``python -m ipykernel_launcher ARGUMENTS`` would."""
    os.environ.clear()
    os.environ.update(spec["env"])
    import tempfile
    tempfile.tempdir = None  # chosen again from TMPDIR, the kernel's own
    sys.path[0] = spec["work"]  # `python -m` puts the working folder first
    sys.argv = [os.path.join(os.path.dirname(importlib.import_module("ipykernel").__path__[0]),
                             "ipykernel_launcher.py"), *arguments]
    sys.modules["numpy"].random.seed()  # fresh entropy, as numpy's import draws in a new process
    from ipykernel import kernelapp
    try:
        kernelapp.launch_new_instance()
    finally:
        os._exit(0)


def fork_kernel(spec, argv):
    """Fork a kernel for `spec` and the kernel command `argv`; the pid of its process group's leader."""
    argv, extra = launch.connection_file_into_work(spec, argv)
    spec = dict(spec, copy=spec.get("copy", []) + extra)
    arguments = kernel_arguments(argv)
    ready, told = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = launch.FAILED
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()  # jupyter interrupts the kernel by signalling this process group
            launch.LIBC.prctl(launch.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # the control pipe and this process's log stay here
                os.dup2(null, fd)
            os.close(null)
            os.close(ready)
            group = launch.join_pids_cgroup(spec.get("processes", 256))  # a process limit of its own
            os.write(told, b"1")
            os.close(told)
            try:
                code = launch.run_sandboxed(spec, lambda: run_kernel(spec, arguments), KERNEL_NAMESPACES)
            finally:
                launch.leave_cgroup(group)
        finally:
            os._exit(code)
    os.close(told)
    os.read(ready, 1)  # the child leads its group before anyone may signal it
    os.close(ready)
    return pid


def serve(requests, replies):
    signal.signal(signal.SIGCHLD, launch.reap_children)
    for line in iter(requests.readline, ""):
        try:
            request = json.loads(line)
            reply = {"pid": fork_kernel(request["spec"], request["argv"])}
        except (ValueError, KeyError, TypeError, OSError, launch.SandboxError) as error:
            reply = {"error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main(spec_file):
    with open(spec_file) as handle:
        spec = json.load(handle)
    preload(spec.get("preload", PRELOAD))
    launch.hide(spec.get("hide", []))
    sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
    os.chdir("/")
    # What is loaded now is shared, copy-on-write, with every kernel. Frozen, the garbage
    # collector no longer walks it in each kernel, which would copy most of its pages.
    gc.collect()
    gc.freeze()
    sys.stdout.write(json.dumps({"ready": True, "modules": len(sys.modules)}) + "\n")
    sys.stdout.flush()
    serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
