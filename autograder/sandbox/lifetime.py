"""How long the kit's processes live: dying with a parent, killing a process tree, reaping
children, and telling who is at the other end of a unix socket.

Standard library only where the launcher and the kernel fork server need it (they load it by
path); `psutil`, which finding and killing process trees takes, is imported by those functions
alone, in the kit's processes.
"""

import os
import signal
import socket
import struct

if __package__:  # imported by the kit (autograder.sandbox.lifetime)
    from .linux import LIBC
else:  # loaded by path: by the launcher, or by the kernel fork server
    from linux import LIBC

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """Be killed (SIGKILL) when the thread that started this process ends; cleared in a fork."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def reap_children(_signum=None, _frame=None):
    """Collect every child that has ended, without waiting (a SIGCHLD handler)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def peer_pid(connection):
    """The pid of the process at the other end of the unix socket `connection` (SO_PEERCRED)."""
    pid, _uid, _gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                                struct.calcsize("3i")))
    return pid


def parent_of(pid):
    """The parent pid of `pid`, from /proc; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return int(handle.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def kill_pidfd(pidfd):
    """SIGKILL the process of `pidfd`, if it has not ended (a pidfd never names a recycled pid)."""
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_tree(process):
    """Kill `process` (anything with a ``pid``) and every process it started, and wait until they
    are gone: kernels run in sessions of their own, so killing the process group would leave them
    behind (spinning in an endless loop, say)."""
    import psutil
    try:
        root = psutil.Process(process.pid)
        family = root.children(recursive=True) + [root]
    except psutil.NoSuchProcess:
        return
    kill_all(family)


def kill_all(processes, seconds=5):
    """SIGKILL `processes` (`psutil.Process`es) and wait, at most `seconds`, until they are gone."""
    import psutil
    for process in processes:
        try:
            process.kill()
        except psutil.Error:  # gone already, or not ours to kill
            pass
    psutil.wait_procs(processes, timeout=seconds)


def processes_naming(*texts):
    """Every process on the machine whose command line contains one of `texts` (a folder a
    run's processes were started with, or forked from a process that was)."""
    import psutil
    return [process for process in psutil.process_iter(["cmdline"])
            if any(text in " ".join(process.info["cmdline"] or []) for text in texts)]
