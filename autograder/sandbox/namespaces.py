"""Namespaces: entering the sandbox's namespaces (step 2 of `launch`), the kernel ids its user
namespace maps beside the grader's own (`kernel_ids`, `id_maps`), and the id each kernel takes
(`kernel_id`).

Standard library only: the launcher and the kernel fork server load it by path, the kit imports
it as ``autograder.sandbox.namespaces``.
"""

import os

if __package__:  # imported by the kit (autograder.sandbox.namespaces)
    from .linux import FAILED, LIBC, SandboxError, check
else:  # loaded by path: by the launcher, or by the kernel fork server
    from linux import FAILED, LIBC, SandboxError, check

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000

# The uid and gid a kernel has, seen from outside, where the grader is root: KERNEL_ID_BASE plus
# the pid of its sandbox's outermost process (the launcher, or the kernel fork server's fork), so that
# no two live kernels share one, and each has a process count (RLIMIT_NPROC) of its own. The
# range lies above the ids systemd gives containers (524288 to 1879048191) and below 2^31, where
# no account or subordinate-id range is normally made; its kernel ids own no file outside. (Where
# the grader's namespace lacks them or one is taken, `kernel_ids` takes a free stretch instead.)
KERNEL_ID_BASE = 0x70000000
PID_LIMIT = 1 << 22  # Linux's highest pid_max (PID_MAX_LIMIT on 64-bit): every pid maps
# Where the grader is not root, the kernel ids come from the grader's subordinate ranges in
# these files, mapped by shadow's setuid helpers (Debian's package uidmap), as rootless
# container tools do. Only these folders are searched: the launcher runs with an empty PATH.
SUBUID, SUBGID = "/etc/subuid", "/etc/subgid"
MIN_KERNEL_IDS = 1024  # fewer free ids than this: a grader's kernels keep its uid (`protection_warning`)
ID_HELPER_FOLDERS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin")

# The cgroup namespace, entered once the sandbox is in its pids group, makes that group its root:
# the kernel's /proc/self/cgroup names no path of the grader's.
ALL_NAMESPACES = (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
                  | CLONE_NEWCGROUP)


def maps_to_host_root(uid):
    """Whether `uid` of this process's user namespace is root outside it (its uid_map sends it to 0)."""
    try:
        ranges = mapped_ranges("uid_map")
    except OSError:
        return uid == 0
    return any(inside <= uid < inside + count and outside + uid - inside == 0 for inside, outside, count in ranges)


def mapped_ranges(name):
    """The (inside, outside, count) ranges of this process's /proc/self/`name` (uid_map or gid_map)."""
    with open(f"/proc/self/{name}") as handle:
        return [tuple(int(field) for field in line.split()) for line in handle if line.strip()]


class KernelIds:
    """The ids kernels take, seen from the grader's user namespace (`kernel_ids`): `count` uids
    from `uid_start` and as many gids from `gid_start`; `helpers` are newuidmap and newgidmap
    where the grader is not root (they map its subordinate ranges), None for root (which writes
    the maps itself)."""

    def __init__(self, uid_start, gid_start, count, helpers=None):
        self.uid_start, self.gid_start, self.count, self.helpers = uid_start, gid_start, count, helpers


def _id_helper(name):
    for folder in ID_HELPER_FOLDERS:
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _lines(path):
    """The ``:``-separated fields of each line of `path` (/etc/passwd, /etc/subuid, ...); none if unreadable."""
    try:
        with open(path) as handle:
            return [line.strip().split(":") for line in handle if line.strip() and not line.startswith("#")]
    except OSError:
        return []


def _account_ids(kind):
    """Every uid (`kind` "uid") or gid ("gid") that an account or a group has (through NSS:
    /etc/passwd and /etc/group, and a directory where the system enumerates one), as ranges of one."""
    import grp
    import pwd
    if kind == "uid":
        return [(entry.pw_uid, 1) for entry in pwd.getpwall()]
    return [(entry.pw_gid, 1) for entry in pwd.getpwall()] + [(entry.gr_gid, 1) for entry in grp.getgrall()]


def _subordinate_ranges(kind):
    """[(owner, start, count)] of /etc/subuid (`kind` "uid") or /etc/subgid ("gid")."""
    found = []
    for fields in _lines(SUBUID if kind == "uid" else SUBGID):
        if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
            found.append((fields[0], int(fields[1]), int(fields[2])))
    return found


def _free_stretches(ranges, taken):
    """The parts of `ranges` ([(start, count)]) that no range of `taken` overlaps."""
    pieces = []
    for start, count in ranges:
        at, end = start, start + count
        for cut, length in sorted(taken):
            if cut < end and cut + length > at:
                if cut > at:
                    pieces.append((at, cut - at))
                at = max(at, cut + length)
        if at < end:
            pieces.append((at, end - at))
    return pieces


def _within(ranges, bounds):
    """The parts of `ranges` that lie inside one of `bounds` (both [(start, count)])."""
    return [(max(s, b), min(s + c, b + n) - max(s, b)) for s, c in ranges for b, n in bounds
            if max(s, b) < min(s + c, b + n)]


def _free_kernel_ids(kind, allowed, others, own_id):
    """The largest stretch (start, count) of `allowed` that exists in this user namespace (its
    uid_map or gid_map) and holds no account's or group's id, no range of `others` (other users'
    subordinate ranges), neither 0, the overflow ids 65534 and 65535, nor `own_id`; capped at
    ``PID_LIMIT - 1``. None if it has fewer than `MIN_KERNEL_IDS`."""
    mapped = [(inside, count) for inside, _outside, count in mapped_ranges(f"{kind}_map")]
    taken = _account_ids(kind) + list(others) + [(0, 1), (65534, 2), (own_id, 1)]
    free = _free_stretches(_within(allowed, mapped), taken)
    start, count = max(free, key=lambda piece: piece[1], default=(0, 0))
    return (start, min(count, PID_LIMIT - 1)) if count >= MIN_KERNEL_IDS else None


def _root_kernel_ids():
    """(`KernelIds`, None) for a root grader, or (None, why none): `KERNEL_ID_BASE` + 1 and up
    where all of them are free, else the largest free stretch of the ids this namespace maps (a
    container's 65,536, say)."""
    wanted = [(KERNEL_ID_BASE + 1, PID_LIMIT - 1)]
    stretches = []
    for kind in ("uid", "gid"):
        others = [(start, count) for _owner, start, count in _subordinate_ranges(kind)]
        found = _free_kernel_ids(kind, wanted, others, 0)
        if found != wanted[0]:
            everything = [(inside, count) for inside, _outside, count in mapped_ranges(f"{kind}_map")]
            found = _free_kernel_ids(kind, everything, others, 0)
        if found is None:
            return None, (f"this container maps no {MIN_KERNEL_IDS} {kind}s that no account, group or "
                          f"subordinate range in {SUBUID} or {SUBGID} uses")
        stretches.append(found)
    (uids, uid_count), (gids, gid_count) = stretches
    return KernelIds(uids, gids, min(uid_count, gid_count)), None


def _subordinate_kernel_ids():
    """(`KernelIds`, None) for a grader that is not root, or (None, what is missing and how to get it)."""
    import pwd
    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid)
    except KeyError:
        return None, f"uid {uid} has no account (newuidmap maps only an account's ranges)"
    name, helpers = user.pw_name, (_id_helper("newuidmap"), _id_helper("newgidmap"))
    owners = {name, str(uid)}
    give = f"a free range, e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {name}"
    stretches = []
    for kind, own_id in (("uid", uid), ("gid", gid)):
        ranges = _subordinate_ranges(kind)
        own = [(start, count) for owner, start, count in ranges if owner in owners]
        others = [(start, count) for owner, start, count in ranges if owner not in owners]
        stretches.append(_free_kernel_ids(kind, own, others, own_id) if own else None)
    if None in helpers:
        return None, "newuidmap and newgidmap are missing: apt install uidmap" + (
            "" if None not in stretches else f", and give {name} a range in {SUBUID} and {SUBGID} ({give})")
    if None in stretches:
        return None, (f"{name} has no range in {SUBUID} and {SUBGID} with {MIN_KERNEL_IDS} ids that no "
                      f"account, group or other user's range uses: {give}")
    if (os.geteuid(), os.getegid()) != (uid, gid) or user.pw_gid != gid:
        return None, f"the grader does not run as {name} with its primary group (newgidmap maps only that one)"
    if _no_new_privs():
        return None, "the grader runs under no_new_privs, which makes newuidmap powerless: start it without"
    (uids, uid_count), (gids, gid_count) = stretches
    return KernelIds(uids, gids, min(uid_count, gid_count), helpers), None


def _no_new_privs():
    """Whether this process runs under no_new_privs (setuid helpers then gain nothing)."""
    try:
        with open("/proc/self/status") as handle:
            return any(line.split() == ["NoNewPrivs:", "1"] for line in handle)
    except OSError:
        return False


def _kernel_ids_or_why():
    if os.geteuid() == 0 and os.getegid() == 0:
        return _root_kernel_ids()
    return _subordinate_kernel_ids()


def kernel_ids():
    """The ids this process's kernels take, where it has ids to give them.

    Each kernel takes one id (uid and gid alike) of a stretch that exists in the grader's user
    namespace and that no account, group or other user's subordinate range uses (files of
    theirs stay closed to it), never 0 nor the grader's own. A root grader takes
    ``KERNEL_ID_BASE + 1`` and up (a kernel's uid is then ``KERNEL_ID_BASE`` plus its leader's
    pid), or, in a container that maps too few ids for that, the largest free stretch of those it
    maps. Any other grader takes, as rootless container tools do, its subordinate ranges in
    ``/etc/subuid`` and ``/etc/subgid`` (by name or uid; their largest free stretch), mapped by
    shadow's setuid ``newuidmap`` and ``newgidmap`` (Debian's package ``uidmap``).

    Returns
    -------
    KernelIds or None
        None where no such stretch of `MIN_KERNEL_IDS` ids exists, or, for a grader that is not
        root, where a helper is missing, where its gid is not its user's primary group (newgidmap
        maps only that one) or it runs under no_new_privs; `protection_warning` says which.
    """
    return _kernel_ids_or_why()[0]


def kernel_ids_mappable():
    """Whether this process can give a new user namespace kernel ids of their own (`kernel_ids`).

    Returns
    -------
    bool
    """
    return kernel_ids() is not None


def protection_warning():
    """The one-line warning for a grader whose kernels keep its uid, or None where they do not.

    Returns
    -------
    str or None
        Which protection the kernels lack, why, and how to get it.
    """
    ids, why = _kernel_ids_or_why()
    if ids is not None:
        return None
    return ("kernels keep the grader's uid, so only Landlock keeps them from the grader's files (the "
            "filesystem outside their folders is read-only for them, so they cannot change those files). "
            f"For kernel uids of their own: {why}")


def _kernel_range(name):
    """(inside start, count) of the kernel ids in this user namespace's `name` map: the range
    from inside 1, beside the grader's own id at inside 0; None where there is none."""
    ranges = mapped_ranges(name)
    if not any(inside == 0 and count == 1 for inside, _outside, count in ranges):
        return None
    return next(((inside, count) for inside, _outside, count in ranges if inside == 1), None)


def kernel_id():
    """The id (uid and gid, inside the user namespace) a kernel started by this process takes.

    ``1 + (pid - 1) % N`` for this process's pid and the N kernel ids mapped: the pid itself for
    a root grader (``KERNEL_ID_BASE + pid`` outside); for a subordinate range of N ids (65,536
    by default) the id ``start + (pid - 1) % N`` outside, which two live kernels share only when
    their pids differ by a multiple of N.

    Returns
    -------
    int or None
        None where no kernel ids are mapped (the kernel keeps the grader's uid).
    """
    ranges = [_kernel_range(name) for name in ("uid_map", "gid_map")]
    if None in ranges:
        return None
    return 1 + (os.getpid() - 1) % min(count for _start, count in ranges)


def grader_is_root():
    """Whether this user namespace's 0 is root outside (the grader is root)."""
    return any(inside == 0 and outside == 0 for inside, outside, _count in mapped_ranges("uid_map"))


def _map_writer(target, write):
    """Fork a process that stays in this user namespace and, once told through the pipe whose
    write end is returned, calls ``write(target)`` to write the id maps of the process `target`.
    Mapping ids other than one's own takes CAP_SETUID and CAP_SETGID in the parent namespace
    (root), or newuidmap and newgidmap: the new namespace cannot write them for itself."""
    told, tell = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = FAILED
        try:
            os.close(tell)
            if os.read(told, 1) == b"1":
                write(target)
                code = 0
        finally:
            os._exit(code)
    os.close(told)
    return pid, tell


def _write_maps(target, maps):
    for name, text in maps:
        fd = os.open(f"/proc/{target}/{name}", os.O_WRONLY)
        os.write(fd, text.encode())  # a map is taken in one write
        os.close(fd)


def _run_id_helpers(target, ids):
    """Map, with newuidmap and newgidmap, the grader's own ids to 0 and the kernel ids from 1 in
    the user namespace of `target`."""
    import subprocess
    for helper, own, start in zip(ids.helpers, (os.getuid(), os.getgid()), (ids.uid_start, ids.gid_start)):
        done = subprocess.run([helper, str(target), "0", str(own), "1", "1", str(start), str(ids.count)],
                              env={}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            raise SystemExit(FAILED)


def _write_own_maps(maps):
    for name, text in maps:
        try:
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
        except OSError as error:
            raise SandboxError(f"namespaces: write {name}: {error.strerror}") from None


def id_maps(ids=None):
    """The maps a root grader writes for a new user namespace, or any grader for one where it
    maps only its own ids.

    Parameters
    ----------
    ids : KernelIds, optional
        The kernel ids of a root grader (`kernel_ids`), mapped from inside 1, root to itself at 0.
        (A grader that is not root maps its kernel ids with newuidmap instead, `enter_namespaces`.)

    Returns
    -------
    list of (str, str)
        (file name in /proc/PID, text) in the order they are written.
    """
    uid, gid = os.getuid(), os.getgid()
    if ids is None:
        return [("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")]
    # setgroups stays allowed: a kernel must drop root's supplementary groups (`shed_privileges`).
    return [("uid_map", f"0 0 1\n1 {ids.uid_start} {ids.count}\n"), ("gid_map", f"0 0 1\n1 {ids.gid_start} {ids.count}\n")]


def enter_namespaces(flags=ALL_NAMESPACES, ids=None):
    """Unshare the namespaces in `flags`, and map ids in a new user namespace.

    Parameters
    ----------
    flags : int
        CLONE_NEW* flags.
    ids : KernelIds, optional
        Map these kernel ids too (`kernel_ids`), from inside 1; the grader's own ids are inside
        0. Without, a new user namespace maps this process's own uid and gid only.

    Raises
    ------
    SandboxError
        When a namespace could not be made or the ids not mapped.
    """
    new_user = bool(flags & CLONE_NEWUSER)
    helpers = new_user and ids is not None and ids.helpers is not None
    maps = id_maps(ids) if new_user and not helpers else []
    writer = tell = None
    if helpers:
        writer, tell = _map_writer(os.getpid(), lambda target: _run_id_helpers(target, ids))
    elif new_user and ids is not None:
        writer, tell = _map_writer(os.getpid(), lambda target: _write_maps(target, maps))
    try:
        check(LIBC.unshare(flags), "namespaces: unshare " + ", ".join(
            name for bit, name in ((CLONE_NEWUSER, "user"), (CLONE_NEWNS, "mount"), (CLONE_NEWPID, "pid"),
                                   (CLONE_NEWNET, "network"), (CLONE_NEWIPC, "IPC"), (CLONE_NEWUTS, "UTS"),
                                   (CLONE_NEWCGROUP, "cgroup"))
            if flags & bit))
        if writer is not None:
            os.write(tell, b"1")
    finally:
        if writer is not None:
            os.close(tell)
            _, status = os.waitpid(writer, 0)
    if writer is not None and status != 0:
        raise SandboxError("namespaces: the kernel ids could not be mapped" + (
            f" (newuidmap and newgidmap refused the ranges in {SUBUID} and {SUBGID})" if helpers else ""))
    if writer is None and maps:
        _write_own_maps(maps)
