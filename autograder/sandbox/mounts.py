"""Mounts: the folders hidden from a kernel, the new root it moves into, and the folders it is
given there (step 4 of `launch`).

Standard library only: the launcher and the kernel fork server load it by path, the kit imports
it as ``autograder.sandbox.mounts``.
"""

import ctypes
import errno
import os
import shutil
import struct

if __package__:  # imported by the kit (autograder.sandbox.mounts)
    from .linux import LIBC, check
    from .namespaces import grader_is_root
else:  # loaded by path: by the launcher, or by the kernel fork server
    from linux import LIBC, check
    from namespaces import grader_is_root

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 1


class MountAttr(ctypes.Structure):  # mount_setattr(2)'s struct mount_attr
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def mount(source, target, fstype, flags, data):
    """mount(2), `SandboxError` naming the mount when it fails."""
    check(LIBC.mount(source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
                     ctypes.c_ulong(flags), data.encode() if data else None), f"mount {fstype or source} on {target}")


def make_mount_point(path, is_folder):
    """Make `path` (on a fresh tmpfs) and the folders above it, passable for everyone."""
    if os.path.lexists(path):  # already there: a folder made for another path, or a bound one's
        return
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        make_mount_point(parent, True)
    if is_folder:
        os.mkdir(path)
    else:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
    os.chmod(path, 0o755 if is_folder else 0o644)


def give_to(kernel, folders, group=None, mode=None):
    """Make `kernel` own each folder of `folders` and everything in it (the work folder, which
    holds the copied files, and the socket folders, where it makes its sockets).

    Parameters
    ----------
    kernel : int
        The kernel's id inside the user namespace.
    folders : list of str
    group : int, optional
        The group they get, the kernel's own by default.
    mode : int, optional
        The mode each folder gets (its contents keep theirs).
    """
    group = kernel if group is None else group
    for folder in folders:
        os.chown(folder, kernel, group)
        if mode is not None:
            os.chmod(folder, mode)
        for parent, names, files in os.walk(folder):
            for name in names + files:
                os.lchown(os.path.join(parent, name), kernel, group)


def _set_read_only(path, read_only=True, recursive=False):
    """Make the mount at `path` (and with `recursive` every mount under it) read-only, or
    writable again. Only that flag changes (mount_setattr), so mounts whose other flags a user
    namespace has locked take it too; a mount that was locked read-only stays so."""
    attr = MountAttr(MOUNT_ATTR_RDONLY if read_only else 0, 0 if read_only else MOUNT_ATTR_RDONLY, 0, 0)
    check(LIBC.syscall(SYS_MOUNT_SETATTR, ctypes.c_int(AT_FDCWD), path.encode(),
                       ctypes.c_uint(AT_RECURSIVE if recursive else 0), ctypes.byref(attr),
                       ctypes.c_size_t(ctypes.sizeof(attr))),
          f"make {path} {'read-only' if read_only else 'writable'}")


SYS_PIVOT_ROOT, MNT_DETACH = 155, 2
OLD_ROOT = "/.old-root"  # where the host's root hangs in the new root while it is being filled
NEW_ROOT_OPTIONS = "size=1m,nr_inodes=4096,mode=0755"  # only folders, links and mount points


def _links_on_the_way(path, depth=0):
    """(link, what it says) for every symbolic link met while resolving `path` on the host, the
    links in their targets included: the new root holds them too, so `path` resolves there as here."""
    found, current = [], "/"
    for part in path.strip("/").split("/"):
        step = os.path.join(current, part)
        if depth < 40 and os.path.islink(step):
            target = os.readlink(step)
            found.append((step, target))
            found += _links_on_the_way(os.path.join(current, target), depth + 1)
            step = os.path.realpath(step)
        current = step
    return found


def _outermost(paths):
    """`paths`, each once, without those inside another of them (a recursive bind brings them)."""
    paths = sorted(set(paths))
    return [p for p in paths if not any(p.startswith(q.rstrip("/") + "/") for q in paths if q != p)]


def root_plan(spec):
    """What the kernel's new root holds, as real host paths: {"read": bound read-only, "write":
    bound writable (the socket folders and the spec's writable paths), "links": (path, target)}.
    /proc is not bound: the sandbox mounts its own."""
    def real(paths):
        return [os.path.realpath(p) for p in paths if os.path.exists(p)]
    read = [p for p in real(spec["read"]) if p != "/proc" and not p.startswith("/proc/")]
    write = real(spec.get("write", [])) + [p for p in real(spec.get("sockets", [])) if os.path.isdir(p)]
    named = [*spec["read"], *spec.get("write", []), *spec.get("sockets", []), spec["work"]]
    links = sorted({link for path in named if os.path.exists(path) for link in _links_on_the_way(path)})
    return {"read": _outermost(set(read) - set(write)), "write": _outermost(write), "links": links}


def _pivot_into(root):
    """Make the mount at `root` this mount namespace's root; the old one hangs at `OLD_ROOT`."""
    os.mkdir(root + OLD_ROOT, 0o700)
    check(LIBC.syscall(SYS_PIVOT_ROOT, root.encode(), (root + OLD_ROOT).encode()), "pivot_root")
    os.chdir("/")


def _bind_from_old_root(path):
    """Bind the host's `path` (under `OLD_ROOT`), with every mount below it, at `path`."""
    source = OLD_ROOT + path
    make_mount_point(path, os.path.isdir(source))
    mount(source, path, None, MS_BIND | MS_REC, None)


def _make_links(links):
    for path, target in links:
        if not os.path.lexists(path):  # one inside a bound folder came with it
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            os.symlink(target, path)


def _fill_work(spec, sources, under=""):
    """Mount the work folder (a size-capped tmpfs) and copy the spec's files in, from below
    `under` (the old root, once the new one is entered)."""
    work = spec["work"]
    make_mount_point(work, True)
    mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(spec['work_bytes'])},nr_inodes={int(spec.get('work_inodes', 4096))},mode=0700")
    os.mkdir(os.path.join(work, ".tmp"))  # the program's TMPDIR
    for source, relative in sources:
        target, source = os.path.join(work, relative), under + source
        if os.path.isdir(source):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)


def enter_new_root(spec):
    """Give this mount namespace a root made only of what the kernel needs, and detach the host's.

    A unix socket is connected to by path, and neither Landlock (ABI 7 and before), the network
    namespace nor a read-only mount stops that: whatever socket the kernel's uid may open (the
    grader's D-Bus session bus, an ssh agent, a 0666 /dev/log, a socket of one of the grader's
    groups) would be reachable if its path were. In the new root no such path exists. It is a
    read-only tmpfs holding the spec's read paths (bound read-only, with the mounts below them,
    the hidden folders among them), its writable paths and socket folders (bound writable), the
    links on their way, the work folder (a tmpfs) and a private /proc. Its folders are 0755, so
    a path under a folder others cannot pass through (a 0700 /root) is reachable at its own path
    without that folder.

    Parameters
    ----------
    spec : dict
        The sandbox's spec (``read``, ``write``, ``sockets``, ``work``, ``work_bytes``, ``copy``).
    """
    plan = root_plan(spec)
    sources = [(os.path.realpath(source), relative) for source, relative in spec.get("copy", [])]
    staging = spec["work"]  # an empty folder of the grader's: mounted over here only, never written
    mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, NEW_ROOT_OPTIONS)
    _pivot_into(staging)
    for path in plan["read"] + plan["write"]:
        _bind_from_old_root(path)
    make_mount_point("/proc", True)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)  # needs the host's /proc still here
    _fill_work(spec, sources, under=OLD_ROOT)
    _make_links(plan["links"])
    for path in plan["read"]:
        _set_read_only(path, recursive=True)
    check(LIBC.umount2(OLD_ROOT.encode(), MNT_DETACH), "detach the old root")
    os.rmdir(OLD_ROOT)
    _set_read_only("/")


def prepare_filesystem(spec, kernel=None):
    """Set up the sandbox's filesystem in this (new) mount namespace.

    Hides the spec's folders, then moves into a root made only of what the kernel needs
    (`enter_new_root`): nothing else of the host's filesystem, its unix sockets included, has a
    path there. For a `kernel` id, gives it the work folder and lets it into the socket folders
    (`let_in`). Either way only the work folder, the socket
    folders and the spec's writable paths are writable: a kernel that keeps the grader's uid
    cannot change the grader's files, Landlock or not.

    Parameters
    ----------
    spec : dict
        The sandbox's spec (``work``, ``work_bytes``, ``copy``, ``hide``, ``sockets``,
        ``read``, ``write``).
    kernel : int, optional
        The id the kernel takes (`kernel_id`), or None.
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    hide(spec.get("hide", []))
    enter_new_root(spec)
    if kernel is None:
        return
    _give_folders(kernel, spec["work"], [path for path in spec.get("sockets", []) if os.path.isdir(path)])


def _give_folders(kernel, work, sockets):
    """Make the work folder the `kernel` id's, and let it make its sockets in the socket folders
    (`let_in`), which stay the grader's."""
    give_to(kernel, [work])
    for folder in sockets:
        if not let_in(kernel, folder):
            give_to(kernel, [folder], **({} if grader_is_root() else {"group": 0, "mode": 0o2770}))


ACL_ACCESS = "system.posix_acl_access"
ACL_VERSION, ACL_UNDEFINED_ID = 2, 0xFFFFFFFF
ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER = 0x01, 0x02, 0x04, 0x10, 0x20


def let_in(kernel, folder):
    """Let the `kernel` id make and remove entries in the grader's `folder`, which it does not own.

    The folder stays the grader's (inside 0), mode 2770 with the grader's group (a socket made in
    it gets that group, which a grader that is not root reaches it through), and an access ACL
    gives the kernel's uid the rights of the folder's owner. Owning the folder, the kernel could
    chmod it 000 and leave a folder a grader that is not root cannot remove.

    Parameters
    ----------
    kernel : int
        The kernel's id inside the user namespace (the ACL is written through it).
    folder : str

    Returns
    -------
    bool
        False where the filesystem keeps no POSIX ACL (the caller gives the kernel the folder).
    """
    os.chown(folder, 0, 0)
    os.chmod(folder, 0o2770)
    entries = [(ACL_USER_OBJ, 7, ACL_UNDEFINED_ID), (ACL_USER, 7, kernel), (ACL_GROUP_OBJ, 7, ACL_UNDEFINED_ID),
               (ACL_MASK, 7, ACL_UNDEFINED_ID), (ACL_OTHER, 0, ACL_UNDEFINED_ID)]
    value = struct.pack("<I", ACL_VERSION) + b"".join(struct.pack("<HHI", *entry) for entry in entries)
    try:
        os.setxattr(folder, ACL_ACCESS, value)
    except OSError as error:
        if error.errno in (errno.EOPNOTSUPP, errno.ENOTSUP):
            return False
        raise
    return True


def hide(folders):
    """Cover each folder with an empty read-only tmpfs (in this mount namespace)."""
    for path in folders:
        if os.path.isdir(path):
            mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2")
