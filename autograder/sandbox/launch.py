"""Start a program inside the grading sandbox: ``python -I -S launch.py SPEC.json -- PROGRAM ARG…``.

Standard library only, so it runs before anything of the kit could be imported by the program.
What it does, in order (each step's failure ends it with exit code 125 and says which step):

0. starts itself again with an empty environment, and arranges to die with its parent
   (`lifetime.die_with_parent`); says on stderr, in one line, what protection its kernels lack
   where they keep the grader's uid (`namespaces.protection_warning`);
1. puts itself in a pids cgroup of its own (`cgroups.join_pids_cgroup`: the cgroup v1 pids
   controller where it is writable, else the grader's cgroup v2 group where it is really
   delegated to the grader (`cgroups.cgroup_v2_delegated`); none when the spec says
   ``"cgroups": false``);
2. enters new user, mount, pid, network, IPC and UTS namespaces: no network at all, no view of
   other processes, and no privilege over the machine. Besides the grader's own ids (inside 0,
   for the set-up), it maps kernel ids that no account, group or other user's range uses: a root
   grader `namespaces.KERNEL_ID_BASE` and up (in a container that maps too few, a free stretch of
   those it maps), any other grader its subordinate ids from /etc/subuid and /etc/subgid, through
   newuidmap and newgidmap (`namespaces.kernel_ids`). Without, it maps the grader's own uid only
   (`namespaces.enter_namespaces`);
3. forks the pid namespace's first process, which the kernel makes take every process of the
   namespace with it when it ends (setsid and double fork included); it dies with this process;
4. there: hides the spec's folders under empty read-only tmpfs, then moves into a new root made
   only of what the program needs (`mounts.enter_new_root`: the spec's read paths bound
   read-only, its writable paths and socket folders, a size-capped tmpfs work folder filled with
   the spec's files, a private /proc) and detaches the host's, so that no other path (no other
   unix socket) exists for it (`mounts.prepare_filesystem`); and sets the rlimits (`set_limits`);
5. restricts itself with Landlock (`landlock.restrict_with_landlock`: filesystem: read the listed
   paths, write the work folder, make sockets in the socket folders; TCP bind and connect denied;
   signals and abstract unix sockets scoped to the sandbox) under no_new_privs;
6. forks the program, which takes its kernel id where one is mapped (`privileges.shed_privileges`:
   a uid and gid of its own, no capability, so file permissions and RLIMIT_NPROC bind it whoever
   the grader is) or else gives up every capability, with an environment made only of the
   spec's variables; relays SIGINT and SIGTERM to it, and exits with its status.

Processes are bounded twice (`cgroups.process_bound` says how, here). The pids cgroup, where
there is one, caps the whole sandbox. RLIMIT_NPROC (the spec's ``processes`` too) binds every
uid but root's, and Linux (5.14 and later) counts it per user namespace and uid: a kernel with an
id of its own has a count of its own (a cold kernel in its own namespace, a warm one under its
own uid in the kernel fork server's), which no other kernel and not the kernel fork server can
use up. Where no kernel id is mapped, the kernel keeps the grader's uid: a cold kernel still has
a count of its own, but the warm kernels of one kernel fork server share theirs with it.

With ``-- kernel-fork-server`` instead of a program it does steps 0 to 2 only (no pid namespace)
and becomes the kernel fork server (`kernel_forkserver`), which runs steps 2 to 6 for every
kernel it forks, with a kernel started in-process instead of a program.

Each step is a module of this folder, all of them standard library only: `lifetime`, `cgroups`,
`namespaces`, `mounts`, `landlock`, `privileges` (and `linux`, the C library they call). Run as a
script (``-I`` puts no folder on ``sys.path``), the launcher puts its own folder first and loads
them as top-level modules, as the kernel fork server does (its folder is its ``sys.path[0]``);
the kit imports them as ``autograder.sandbox.<module>``. Each module imports its siblings the
same way as it was imported itself, so no process holds two copies of one.
"""

import json
import os
import signal
import sys

if __package__:  # imported by the kit (autograder.sandbox.launch): one copy of each module below
    from .cgroups import join_pids_cgroup, leave_cgroup
    from .landlock import restrict_with_landlock
    from .lifetime import die_with_parent
    from .linux import FAILED, SandboxError
    from .mounts import MS_PRIVATE, MS_REC, mount, prepare_filesystem
    from .namespaces import (ALL_NAMESPACES, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWUTS,
                             enter_namespaces, grader_is_root, kernel_id, kernel_ids, protection_warning)
    from .privileges import keep_capabilities_over_exec, shed_privileges
else:  # run by path (python -I -S launch.py puts no folder on sys.path), or loaded so by the kernel fork server
    if __name__ == "__main__":  # its own folder first, while it loads its modules
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from cgroups import join_pids_cgroup, leave_cgroup
    from landlock import restrict_with_landlock
    from lifetime import die_with_parent
    from linux import FAILED, SandboxError
    from mounts import MS_PRIVATE, MS_REC, mount, prepare_filesystem
    from namespaces import (ALL_NAMESPACES, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWUTS,
                            enter_namespaces, grader_is_root, kernel_id, kernel_ids, protection_warning)
    from privileges import keep_capabilities_over_exec, shed_privileges
    if __name__ == "__main__":  # then nothing but the standard library, as -I means (resource, subprocess later)
        sys.path.remove(os.path.dirname(os.path.abspath(__file__)))

KERNEL_UMASK = 0o007  # a non-root grader reaches a kernel's sockets through their group (`mounts.let_in`)
KERNEL_FORK_SERVER = "kernel-fork-server"  # the program that makes the launcher the kernel fork server


def set_limits(spec):
    """Set the spec's rlimits (memory, processes, file size, open files, CPU time; no core file)
    and a lower priority."""
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


def namespace_init(spec, start, kernel=None):
    """The pid namespace's first process: set the sandbox up, call `start` in a child (it must
    not return) that has become the `kernel` id when there is one, reap, exit. This process keeps
    its uid: the program cannot signal or trace it."""
    die_with_parent()
    prepare_filesystem(spec, kernel)
    set_limits(spec)
    restrict_with_landlock(spec["read"], spec.get("write", []) + [spec["work"]], spec.get("sockets", []))
    pid = os.fork()
    if pid == 0:
        os.chdir(spec["work"])
        if kernel is not None and not grader_is_root():
            os.umask(KERNEL_UMASK)  # its sockets: group-writable, in a folder of the grader's group
        shed_privileges(kernel)
        start()
        os._exit(FAILED)
    _relay(pid)
    return _wait_for(pid, reap_all=True)


def run_sandboxed(spec, start, flags=ALL_NAMESPACES):
    """Steps 2 to 6: enter the namespaces in `flags` (a new pid namespace among them) and run
    `start` in the sandbox; its exit status, or `FAILED` when a step failed (said on stderr)."""
    try:
        enter_namespaces(flags, kernel_ids() if flags & CLONE_NEWUSER else None)
        kernel = kernel_id()
        pid = os.fork()
        if pid == 0:
            try:
                os._exit(namespace_init(spec, start, kernel))
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


def become_kernel_fork_server(spec, spec_file):
    """Become the kernel fork server (`kernel_forkserver`): in new user, mount, network, IPC and
    UTS namespaces (no pid namespace: each kernel it forks gets one of its own), with the spec's
    environment. It hides the kit's folders itself, once it has loaded what it preloads."""
    enter_namespaces(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS,
                     kernel_ids())  # its kernels take them (`kernel_id`); it keeps inside 0
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    if os.getuid() != 0:  # the grader's own uid inside (no kernel ids): execve would drop every capability
        keep_capabilities_over_exec()
    server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_forkserver.py")
    os.execve(sys.executable, [sys.executable, "-s", server, spec_file], spec["env"])


def main(arguments):
    """Steps 0 to 6 for ``SPEC.json -- PROGRAM ARG…`` (`arguments`); the exit status to exit with."""
    if os.environ.get("KIT_SANDBOX_CLEAN") != "1":
        # Start again with an empty environment: the namespace's first process is this one, and
        # a program in the sandbox can read its /proc/1/environ.
        os.execve(sys.executable, [sys.executable, "-I", "-S", os.path.abspath(__file__), *arguments],
                  {"KIT_SANDBOX_CLEAN": "1", "KIT_SANDBOX_PARENT": str(os.getppid())})
    # Whoever started the sandbox (a grading worker) may die without stopping it: go with it.
    # Its pid, not 1, tells whether it already has: in a container the grader may be pid 1 itself.
    die_with_parent()
    if str(os.getppid()) != os.environ.get("KIT_SANDBOX_PARENT"):
        return FAILED
    separator = arguments.index("--")
    with open(arguments[0]) as handle:
        spec = json.load(handle)
    argv = arguments[separator + 1:]
    warning = protection_warning()
    if warning:  # `policy.check_available` passes it on to the grader
        sys.stderr.write(f"sandbox: warning: {warning}\n")
    group = join_pids_cgroup(spec)
    if argv == [KERNEL_FORK_SERVER]:  # the group outlives this process: `KernelForkServer.stop` removes it
        try:
            become_kernel_fork_server(spec, arguments[0])
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

