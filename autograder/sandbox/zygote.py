"""The warm-kernel process: it loads once what every grading kernel loads, then forks a fresh
sandboxed kernel for each submission. ``python -s zygote.py SPEC.json``, started by `launch`.

It runs in user, mount, network, IPC and UTS namespaces of its own (made by `launch`), with the
kernels' environment. Where the grader is root or has subordinate ids, its user namespace maps the
kernel ids too (`launch.KERNEL_ID_BASE`, or the grader's `/etc/subuid` range): it keeps inside uid
0 (the grader's root, for the kernels' set-up), and each kernel takes a uid and gid of its own once
its sandbox is set up. It imports numpy, matplotlib and ipykernel (`PRELOAD`), listens on the unix
socket named by the spec's ``control``, hides the kit's folders, says ``{"ready": true}`` on
stdout, and then answers one request per line on each connection: ``{"spec": SPEC, "argv":
KERNEL_COMMAND}`` → ``{"pid": PID}``. Only the process that started it and that process's children
(the grading workers of one fork server) may connect; a kernel cannot. When a connection closes
(its worker stopped, or was killed) the kernels forked for it are killed. Several workers can share
one warm process.

For each request it forks a child that leads a process group and a pids cgroup of its own and
runs `launch.run_sandboxed`: new mount, pid, network, IPC and UTS namespaces, the kernel's first
process with a private /proc and a fresh tmpfs work folder, the rlimits and Landlock, and under
all that the kernel, under a uid of its own where there is one (`launch.shed_privileges`),
started in-process from the modules already loaded (copy-on-write: nothing is imported again).

No student code ever runs in this process, so every kernel forked from it starts from the same
clean state; each kernel serves one submission and ends, and what it did dies with its
namespaces. A kernel cannot reach this process: it is outside the kernel's pid namespace, its
Landlock domain (signals, ptrace, abstract sockets) and its file rights (and, where the grader
is root, has another uid), the socket refuses it, and the kernel holds none of its file
descriptors.
"""

import gc
import importlib
import json
import os
import select
import selectors
import signal
import socket
import sys

import launch

# What a grading kernel and the assignment's notebook import (ipykernel with its debugger and
# IPython, numpy, matplotlib's pyplot): loaded here once instead of in every kernel. matplotlib's inline backend
# is not among them: it hooks into the kernel's shell when it is first imported, in the kernel.
PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "IPython", "IPython.display", "IPython.core.completer",
           "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
           "sqlite3", "pdb", "runpy", "http.client", "psutil", "tornado.ioloop")
KERNEL_NAMESPACES = launch.ALL_NAMESPACES & ~launch.CLONE_NEWUSER


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


def fork_kernel(spec, argv, inherited=()):
    """Fork a kernel for `spec` and the kernel command `argv`; the pid of its process group's
    leader. The child closes `inherited` (this process's sockets and pidfds) first."""
    argv, extra = launch.connection_file_into_work(spec, argv)
    spec = dict(spec, copy=spec.get("copy", []) + extra)
    arguments = kernel_arguments(argv)
    ready, told = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = launch.FAILED
        try:
            for handle in inherited:
                os.close(handle) if isinstance(handle, int) else handle.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, set())  # the server blocks SIGCHLD while it forks
            os.setsid()  # jupyter interrupts the kernel by signalling this process group
            launch.LIBC.prctl(launch.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # the warm process's output and log stay with it
                os.dup2(null, fd)
            os.close(null)
            os.close(ready)
            group = launch.join_pids_cgroup(spec)  # a process limit of its own
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


def parent_of(pid):
    """The parent pid of `pid`, from /proc; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return int(handle.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def may_connect(connection):
    """Whether the peer of `connection` is the process that started this one, or a child of it."""
    pid = launch.peer_pid(connection)
    owner = os.getppid()
    return pid == owner or parent_of(pid) == owner


class Client:
    """One connection: its unread bytes and the kernels forked for it (pid → pidfd)."""

    def __init__(self, connection):
        self.connection = connection
        self.buffer = b""
        self.kernels = {}

    def kill_kernels(self):
        for pidfd in self.kernels.values():
            try:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.close(pidfd)
        self.kernels.clear()


def answer(request_line, inherited):
    """The reply to one request line, and the pid forked (or None)."""
    try:
        request = json.loads(request_line)
        pid = fork_kernel(request["spec"], request["argv"], inherited)
        return {"pid": pid}, pid
    except (ValueError, KeyError, TypeError, OSError, launch.SandboxError) as error:
        return {"error": f"{type(error).__name__}: {error}"}, None


def serve(listener):
    """Answer requests on every connection accepted on `listener` until this process is killed."""
    signal.signal(signal.SIGCHLD, launch.reap_children)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    clients = {}

    def inherited():
        return [selector, listener, *(c.connection for c in clients.values()),
                *(fd for c in clients.values() for fd in c.kernels.values())]

    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                connection, _ = listener.accept()
                if may_connect(connection):
                    clients[connection.fileno()] = Client(connection)
                    selector.register(connection, selectors.EVENT_READ)
                else:
                    connection.close()
                continue
            client = clients[key.fd]
            data = client.connection.recv(1 << 20)
            if not data:  # the worker stopped or died: so do its kernels
                selector.unregister(client.connection)
                del clients[key.fd]
                client.kill_kernels()
                client.connection.close()
                continue
            client.buffer += data
            while b"\n" in client.buffer:
                line, client.buffer = client.buffer.split(b"\n", 1)
                forget_ended(client)
                # SIGCHLD waits until the new kernel has a pidfd: reaped first, its pid could be reused.
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
                try:
                    reply, pid = answer(line, inherited())
                    if pid is not None:
                        client.kernels[pid] = os.pidfd_open(pid)
                finally:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                client.connection.sendall(json.dumps(reply).encode() + b"\n")


def forget_ended(client):
    """Close the pidfds of `client`'s kernels that have ended."""
    for pid, pidfd in list(client.kernels.items()):
        if select.select([pidfd], [], [], 0)[0]:
            os.close(pidfd)
            del client.kernels[pid]


def main(spec_file):
    with open(spec_file) as handle:
        spec = json.load(handle)
    preload(spec.get("preload", PRELOAD))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(spec["control"])  # before hiding: its folder is the starter's, outside the kit
    listener.listen(16)
    launch.hide(spec.get("hide", []))
    sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
    os.chdir("/")
    # What is loaded now is shared, copy-on-write, with every kernel. Frozen, the garbage
    # collector no longer walks it in each kernel, which would copy most of its pages.
    gc.collect()
    gc.freeze()
    sys.stdout.write(json.dumps({"ready": True, "modules": len(sys.modules)}) + "\n")
    sys.stdout.flush()
    serve(listener)


if __name__ == "__main__":
    main(sys.argv[1])
