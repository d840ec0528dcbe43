"""cgroups: a pids group of its own for each sandbox (step 1 of `launch`), in the cgroup v1 pids
controller or in a cgroup v2 group delegated to the grader, and what bounds a sandbox's
processes where there is none (`process_bound`).

Standard library only: the launcher and the kernel fork server load it by path, the kit imports
it as ``autograder.sandbox.cgroups`` (`policy.pids_group`).
"""

import errno
import os

if __package__:  # imported by the kit (autograder.sandbox.cgroups)
    from .namespaces import kernel_ids_mappable, maps_to_host_root
else:  # loaded by path: by the launcher, or by the kernel fork server
    from namespaces import kernel_ids_mappable, maps_to_host_root

PROCESSES = 64  # the most processes and threads alive at once in one sandbox, unless the spec says
V1_PIDS = "/sys/fs/cgroup/pids"
SANDBOX_GROUPS = "autograder"  # the cgroup holding one pids group per sandbox
V2_GRADER_LEAF = "autograder-grader"  # where the processes of a delegated cgroup v2 group move


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def _words(path):
    """The words of a small file (a cgroup's controller list, its processes); none if unreadable."""
    try:
        with open(path) as handle:
            return handle.read().split()
    except OSError:
        return []


def own_cgroup_v2():
    """The folder of this process's cgroup v2 group (its ``0::`` line in /proc/self/cgroup,
    under the cgroup2 mount that holds it), or None."""
    try:
        with open("/proc/self/cgroup") as handle:
            path = next((line[3:].strip() for line in handle if line.startswith("0::")), None)
        with open("/proc/self/mountinfo") as handle:
            mounts = [line.split() for line in handle]
    except OSError:
        return None
    for fields in mounts if path else []:
        if "-" in fields and fields[fields.index("-") + 1] == "cgroup2":
            root, point = fields[3].rstrip("/"), fields[4]
            if path == root or path.startswith(root + "/"):
                return os.path.normpath(os.path.join(point, path[len(root):].lstrip("/")))
    return None


def _grader_group(group):
    """The cgroup v2 group of the grader that `group` lies in: above the leaf its processes were
    moved to, and above a sandbox's pids group (where a warm kernel's fork starts)."""
    while True:
        parent, name = os.path.split(group)
        if name == V2_GRADER_LEAF:
            group = parent
        elif name.startswith("sandbox-") and os.path.basename(parent) == SANDBOX_GROUPS:
            group = os.path.dirname(parent)
        else:
            return group


def _delegate_mark(folder):
    """Whether systemd marked the cgroup `folder` delegated (Delegate=yes sets ``trusted.delegate``
    to 1, and ``user.delegate`` too, which a process without CAP_SYS_ADMIN can read)."""
    for name in ("trusted.delegate", "user.delegate"):
        try:
            if os.getxattr(folder, name).strip() == b"1":
                return True
        except OSError:
            continue
    return False


def cgroup_v2_delegated(folder):
    """Whether the cgroup v2 group `folder` is delegated to this process's effective uid.

    The kernel's cgroup v2 documentation ("Delegation") delegates a group to a user by giving it
    the group's folder and the folder's ``cgroup.procs``, ``cgroup.subtree_control`` and
    ``cgroup.threads``; systemd's ``Delegate=yes`` also marks the folder (``trusted.delegate``,
    ``user.delegate``). Root owns every group nobody delegated (the root group, systemd's
    slices), so for a uid that is root outside its namespace only the mark counts: its
    ownership says nothing. Write access is not delegation.

    Parameters
    ----------
    folder : str
        The group's folder under a cgroup2 mount.

    Returns
    -------
    bool
        True where the group is marked delegated, or where this uid owns the folder and its
        three files and is not the host's root.
    """
    if _delegate_mark(folder):
        return True
    uid = os.geteuid()
    if maps_to_host_root(uid):
        return False
    files = [folder] + [os.path.join(folder, name) for name in ("cgroup.procs", "cgroup.subtree_control")]
    threads = os.path.join(folder, "cgroup.threads")
    try:
        owners = [os.stat(path).st_uid for path in files + ([threads] if os.path.exists(threads) else [])]
    except OSError:
        return False
    return all(owner == uid for owner in owners)


def locate_sandbox_groups():
    """Where sandboxes' pids cgroups go, or why there are none.

    ``autograder`` in the cgroup v1 pids controller where it is writable (root), else in the
    grader's own cgroup v2 group where that group is delegated to the grader
    (`cgroup_v2_delegated`), the grader may write it and it has the pids controller. A process
    already in a group the kit made there (a warm kernel's fork, the grader's leaf) is in a
    subtree a launcher found delegated (and a user namespace hides ``trusted.*`` marks). Only
    locates it.

    Returns
    -------
    home : str or None
        The cgroup folder holding one pids group per sandbox.
    why_not : str or None
        Where `home` is None, why (for `process_bound`).
    """
    if os.access(V1_PIDS, os.W_OK):
        return os.path.join(V1_PIDS, SANDBOX_GROUPS), None
    own = own_cgroup_v2()
    if own is None:
        return None, "no cgroup v2 group and no writable cgroup v1 pids controller"
    base = _grader_group(own)
    if base == own and not cgroup_v2_delegated(base):
        return None, f"the cgroup v2 group {base} is not delegated to uid {os.geteuid()}"
    if not all(os.access(os.path.join(base, name), os.W_OK) for name in ("cgroup.procs", "cgroup.subtree_control")):
        return None, f"the cgroup v2 group {base} is not writable"
    if "pids" not in _words(os.path.join(base, "cgroup.controllers")):
        return None, f"the cgroup v2 group {base} has no pids controller"
    return os.path.join(base, SANDBOX_GROUPS), None


def sandbox_groups_home():
    """The cgroup that holds one pids group per sandbox, or None (see `locate_sandbox_groups`)."""
    return locate_sandbox_groups()[0]


_homes = {}  # this process's `sandbox_groups_home`, found once (`pids_group`)


def pids_group(pid):
    """The pids cgroup folder of a sandbox, where sandboxes get one.

    Parameters
    ----------
    pid : int
        The pid of the sandbox's outermost process.

    Returns
    -------
    str or None
        ``<home>/sandbox-PID``; the home is looked up once per process.
    """
    if "home" not in _homes:
        _homes["home"] = sandbox_groups_home()
    home = _homes["home"]
    return os.path.join(home, f"sandbox-{pid}") if home else None


def process_bound(cgroups=True):
    """Say, in one line, what caps the processes of a sandbox started from here.

    Parameters
    ----------
    cgroups : bool
        Whether sandboxes may make pids cgroups (the spec's ``"cgroups"``).

    Returns
    -------
    str
        The pids cgroup where there is one (or why there is none), and RLIMIT_NPROC with the
        uid it binds.
    """
    home, why_not = locate_sandbox_groups() if cgroups else (None, "cgroups are turned off")
    if kernel_ids_mappable():
        rlimit = "RLIMIT_NPROC on the kernel's own uid"
    else:
        rlimit = "RLIMIT_NPROC on the grader's uid (shared by the warm kernels of one kernel fork server)"
    if home:
        return f"a pids cgroup per sandbox in {home}, and {rlimit}"
    return f"{rlimit} alone ({why_not})"


def _enable_pids(folder):
    """Give the cgroup v2 group `folder`'s children the pids controller. cgroup v2 refuses that
    to a group holding processes (but the root), so they move to a leaf group of their own first
    (`V2_GRADER_LEAF`: the grader's processes, in the subtree delegated to it)."""
    control = os.path.join(folder, "cgroup.subtree_control")
    if "pids" in _words(control):
        return
    try:
        return _write(control, "+pids")
    except OSError as error:
        if error.errno != errno.EBUSY:
            raise
    leaf = os.path.join(folder, V2_GRADER_LEAF)
    os.makedirs(leaf, exist_ok=True)
    for pid in _words(os.path.join(folder, "cgroup.procs")):
        try:
            _write(os.path.join(leaf, "cgroup.procs"), pid)
        except OSError:
            pass  # it ended meanwhile
    _write(control, "+pids")


def _prepare_home(home):
    """Make the sandboxes' cgroup `home` and clear the groups of sandboxes killed before they
    could remove theirs."""
    if not home.startswith(V1_PIDS + "/"):  # cgroup v2: controllers are given from parent to child
        _enable_pids(os.path.dirname(home))
    os.makedirs(home, exist_ok=True)
    if not home.startswith(V1_PIDS + "/"):
        _enable_pids(home)
    for stale in os.listdir(home):
        if os.path.isdir(os.path.join(home, stale)):
            try:
                os.rmdir(os.path.join(home, stale))
            except OSError:
                pass


def join_pids_cgroup(spec):
    """Put this process in a fresh pids cgroup capped at the spec's ``processes``; the group's
    folder, or None where the spec says ``"cgroups": false`` or none can be had (then
    RLIMIT_NPROC, which binds the kernel's own uid, is the bound)."""
    home = sandbox_groups_home() if spec.get("cgroups", True) else None
    if home is None:
        return None
    try:
        _prepare_home(home)
    except OSError:
        return None
    group = os.path.join(home, f"sandbox-{os.getpid()}")
    for _attempt in range(3):  # another sandbox's sweep may remove the group before this one joins it
        try:
            os.makedirs(group, exist_ok=True)
            _write(os.path.join(group, "pids.max"), str(spec.get("processes", PROCESSES)))
            _write(os.path.join(group, "cgroup.procs"), str(os.getpid()))
            return group
        except OSError:
            continue
    return None


def leave_cgroup(group):
    """Move this process back where it came from (the grader's leaf group under cgroup v2, the
    root under v1) and remove its pids `group`."""
    if group:
        parent = os.path.dirname(os.path.dirname(group))
        leaf = os.path.join(parent, V2_GRADER_LEAF)
        try:
            _write(os.path.join(leaf if os.path.isdir(leaf) else parent, "cgroup.procs"), str(os.getpid()))
            os.rmdir(group)
        except OSError:
            pass
