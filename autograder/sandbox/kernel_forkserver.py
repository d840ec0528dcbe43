"""The kernel fork server: it loads once what every grading kernel loads, then forks a fresh
sandboxed kernel (a warm kernel) for each submission. ``python -s kernel_forkserver.py
SPEC.json``, started by `launch` (``-- kernel-fork-server``).

It runs in user, mount, network, IPC and UTS namespaces of its own (made by `launch`), with the
kernels' environment. Where the grader is root or has subordinate ids, its user namespace maps the
kernel ids too (`namespaces.KERNEL_ID_BASE`, or the grader's `/etc/subuid` range): it keeps inside
uid 0 (the grader's root, for the kernels' set-up), and each kernel takes a uid and gid of its own
once its sandbox is set up. It imports numpy, matplotlib and ipykernel (`PRELOAD`), listens on the
unix socket named by the spec's ``control``, hides the kit's folders, says ``{"ready": true}`` on
stdout, and then answers one request per line on each connection: ``{"spec": SPEC, "argv":
KERNEL_COMMAND}`` → ``{"pid": PID}``. Only the process that started it and that process's children
(the grading workers of one worker fork server) may connect; a kernel cannot. When a connection
closes (its worker stopped, or was killed) the kernels forked for it are killed. Several workers
can share one kernel fork server. Its listener, peer check, forks and their pidfds are a
`prefork.PreforkServer`'s.

For each request it forks a child that leads a process group and a pids cgroup of its own and
runs `launch.run_sandboxed`: new mount, pid, network, IPC and UTS namespaces, the kernel's first
process with a private /proc and a fresh tmpfs work folder, the rlimits and Landlock, and under
all that the kernel, under a uid of its own where there is one (`privileges.shed_privileges`),
started in-process from the modules already loaded (copy-on-write: nothing is imported again).

No student code ever runs in this process, so every kernel forked from it starts from the same
clean state; each kernel serves one submission and ends, and what it did dies with its
namespaces. A kernel cannot reach this process: it is outside the kernel's pid namespace, its
Landlock domain (signals, ptrace, abstract sockets) and its file rights (and, where the grader
is root, has another uid), the socket refuses it, and the kernel holds none of its file
descriptors.

It loads the launcher's modules by path, as the launcher does (its folder is its ``sys.path[0]``
until the kit's folders are hidden), and nothing else of the kit.
"""

import gc
import importlib
import json
import os
import selectors
import sys

import launch
from cgroups import join_pids_cgroup, leave_cgroup
from lifetime import die_with_parent, parent_of
from linux import SandboxError
from mounts import hide
from namespaces import ALL_NAMESPACES, CLONE_NEWUSER
from prefork import PreforkServer

# What a grading kernel and the assignment's notebook import (ipykernel with its debugger and
# IPython, numpy, matplotlib's pyplot): loaded here once instead of in every kernel. matplotlib's inline backend
# is not among them: it hooks into the kernel's shell when it is first imported, in the kernel.
PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "IPython", "IPython.display", "IPython.core.completer",
           "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
           "sqlite3", "pdb", "runpy", "http.client", "psutil", "tornado.ioloop")
KERNEL_NAMESPACES = ALL_NAMESPACES & ~CLONE_NEWUSER


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


def sandboxed_kernel(spec, arguments, told):
    """In the forked child: lead a process group and a pids cgroup of its own, say so on the pipe
    `told`, and run the kernel in its sandbox; the exit status."""
    os.setsid()  # jupyter interrupts the kernel by signalling this process group
    die_with_parent()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the kernel fork server's output and log stay with it
        os.dup2(null, fd)
    os.close(null)
    group = join_pids_cgroup(spec)  # a process limit of its own
    os.write(told, b"1")
    os.close(told)
    try:
        return launch.run_sandboxed(spec, lambda: run_kernel(spec, arguments), KERNEL_NAMESPACES)
    finally:
        leave_cgroup(group)


def fork_kernel(server, spec, argv, owner, close=()):
    """Fork a kernel for `spec` and the kernel command `argv`, kept for `owner`; the pid of its
    process group's leader. The child closes `close` (this process's selector and connections)."""
    argv, extra = launch.connection_file_into_work(spec, argv)
    spec = dict(spec, copy=spec.get("copy", []) + extra)
    arguments = kernel_arguments(argv)
    ready, told = os.pipe()
    pid = server.fork(lambda: sandboxed_kernel(spec, arguments, told), owner, close=[*close, ready])
    os.close(told)
    os.read(ready, 1)  # the child leads its group before anyone may signal it
    os.close(ready)
    return pid


def answer(server, request_line, owner, close):
    """The reply to one request line of `owner`'s connection."""
    try:
        request = json.loads(request_line)
        return {"pid": fork_kernel(server, request["spec"], request["argv"], owner, close)}
    except (ValueError, KeyError, TypeError, OSError, SandboxError) as error:
        return {"error": f"{type(error).__name__}: {error}"}


def serve(server):
    """Answer requests on every connection `server` accepts until this process is killed."""
    selector = selectors.DefaultSelector()
    selector.register(server.listener, selectors.EVENT_READ)
    connections, buffers = {}, {}
    while True:
        for key, _ in selector.select():
            if key.fileobj is server.listener:
                connection = server.accept()
                if connection is not None:
                    connections[connection.fileno()], buffers[connection.fileno()] = connection, b""
                    selector.register(connection, selectors.EVENT_READ)
                continue
            connection = connections[key.fd]
            data = connection.recv(1 << 20)
            if not data:  # the worker stopped or died: so do its kernels
                selector.unregister(connection)
                del connections[key.fd], buffers[key.fd]
                server.kill(key.fd)
                connection.close()
                continue
            buffers[key.fd] += data
            while b"\n" in buffers[key.fd]:
                line, buffers[key.fd] = buffers[key.fd].split(b"\n", 1)
                server.forget_ended()
                reply = answer(server, line, key.fd, [selector, *connections.values()])
                connection.sendall(json.dumps(reply).encode() + b"\n")


def main(spec_file):
    with open(spec_file) as handle:
        spec = json.load(handle)
    preload(spec.get("preload", PRELOAD))
    # Before hiding: the socket's folder is the starter's, outside the kit. Only the process that
    # started this one (a grading worker or a worker fork server) and its children may connect.
    server = PreforkServer(spec["control"], lambda pid: os.getppid() in (pid, parent_of(pid)))
    hide(spec.get("hide", []))
    sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
    os.chdir("/")
    # What is loaded now is shared, copy-on-write, with every kernel. Frozen, the garbage
    # collector no longer walks it in each kernel, which would copy most of its pages.
    gc.collect()
    gc.freeze()
    sys.stdout.write(json.dumps({"ready": True, "modules": len(sys.modules)}) + "\n")
    sys.stdout.flush()
    serve(server)


if __name__ == "__main__":
    main(sys.argv[1])
