"""The serving end of a fork server: a process that has loaded once what its children need and
forks a fresh child per request, on a unix socket that only its owner may use.

Both fork servers are built on it: the worker fork server (`autograder.grade.worker_forkserver`, one
grading worker per connection) and the kernel fork server (`kernel_forkserver`, a warm kernel
per request). A `PreforkServer` holds the listener and the peer check, forks with SIGCHLD
blocked (no child is reaped, and its pid reused, before it has a pidfd), and keeps each child's
pidfd, so that a child that ended is forgotten and a live one killed without ever signalling a
recycled pid.

Standard library only: the kernel fork server loads it by path (inside its namespaces), the kit
imports it as ``autograder.sandbox.prefork``.
"""

import os
import select
import signal
import socket

if __package__:  # imported by the kit (autograder.sandbox.prefork)
    from .lifetime import kill_pidfd, peer_pid, reap_children
    from .linux import FAILED
else:  # loaded by path, by the kernel fork server
    from lifetime import kill_pidfd, peer_pid, reap_children
    from linux import FAILED


class PreforkServer:
    """A listener on the unix socket `path` and the children forked from this process.

    Making one reaps every child that ends from then on (a SIGCHLD handler).

    Parameters
    ----------
    path : str
        Where the listening socket is made.
    allowed : callable
        Whether the process of a pid (the peer of a connection, SO_PEERCRED) may connect.
    """

    def __init__(self, path, allowed):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(16)
        self.allowed = allowed
        self.children = {}  # pidfd → (the owner it was forked for, the value kept with it)
        signal.signal(signal.SIGCHLD, reap_children)

    def accept(self):
        """The next connection, or None when its peer is not `allowed` (it is closed)."""
        connection, _ = self.listener.accept()
        if self.allowed(peer_pid(connection)):
            return connection
        connection.close()
        return None

    def fork(self, run, owner=None, value=None, close=()):
        """Fork a child that calls `run` and exits with what it returns; its pid.

        The child starts with no signal blocked and SIGCHLD's default action, and closes the
        listener, every child's pidfd and `close` (file descriptors, or objects with a
        ``close``) first. Its pidfd is kept, with `value`, for `owner` (`kill`).
        """
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
            if pid == 0:
                code = FAILED
                try:
                    signal.pthread_sigmask(signal.SIG_SETMASK, set())
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    for handle in [self.listener, *self.children, *close]:
                        os.close(handle) if isinstance(handle, int) else handle.close()
                    code = run()
                finally:
                    os._exit(code)
            self.children[os.pidfd_open(pid)] = owner, value
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        return pid

    def forget_ended(self):
        """Close the pidfds of the children that have ended."""
        for pidfd in [fd for fd in self.children if select.select([fd], [], [], 0)[0]]:
            os.close(pidfd)
            del self.children[pidfd]

    def kill(self, owner=None, wait=0):
        """SIGKILL the children forked for `owner` (every child where it is None), waiting at
        most `wait` seconds for each to end; the values kept with them."""
        killed = [pidfd for pidfd, (forked_for, _value) in self.children.items() if owner in (None, forked_for)]
        for pidfd in killed:
            kill_pidfd(pidfd)
        values = []
        for pidfd in killed:
            if wait:
                select.select([pidfd], [], [], wait)
            os.close(pidfd)
            values.append(self.children.pop(pidfd)[1])
        return values
