"""Run a command as an account that exists only for it: ``python as_another_account.py SPEC.json -- COMMAND…``.

Run as root. In a mount namespace of its own it covers /etc with a copy holding the spec's extra
lines of passwd, group, subuid and subgid (the host's files are never written), makes the
spec's paths reachable for any uid (the kit's Python may lie under a 0700 /root), and runs the
command as the spec's uid and gid with no supplementary group.
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "autograder", "sandbox"))
import mounts  # noqa: E402  (standard library only, like this program)
from linux import LIBC, check  # noqa: E402
from namespaces import CLONE_NEWNS  # noqa: E402


def _outermost_unsearchable(path):
    """The outermost folder above `path` that a user owning none of them cannot pass through, or None."""
    folder = "/"
    for part in path.strip("/").split("/")[:-1]:
        folder = os.path.join(folder, part)
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def open_up(paths):
    """Make each of `paths` reachable for any uid at the same path: a folder above one that others
    cannot pass through is covered by a read-only tmpfs holding only those paths, each bound
    back from what it covered."""
    found = {}
    for path in {os.path.realpath(p) for p in paths if os.path.exists(p)}:
        folder = _outermost_unsearchable(path)
        if folder is not None:
            found.setdefault(folder, set()).add(path)
    for folder, inside in found.items():
        inside = sorted(p for p in inside if not any(p.startswith(q + "/") for q in inside))
        handles = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC)) for path in inside]
        mounts.mount("tmpfs", folder, "tmpfs", mounts.MS_NOSUID | mounts.MS_NODEV, "size=64k,mode=0755")
        for path, handle in handles:
            mounts.make_mount_point(path, os.path.isdir(f"/proc/self/fd/{handle}"))
            mounts.mount(f"/proc/self/fd/{handle}", path, None, mounts.MS_BIND | mounts.MS_REC, None)
            os.close(handle)
        mounts.mount(None, folder, None, mounts.MS_REMOUNT | mounts.MS_BIND | mounts.MS_RDONLY, None)


def cover_etc(extra):
    """Cover /etc with a tmpfs holding a copy of it, with `extra`'s lines ({file name: [line]}) added."""
    original = os.open("/etc", os.O_PATH | os.O_DIRECTORY)
    mounts.mount("tmpfs", "/etc", "tmpfs", mounts.MS_NOSUID | mounts.MS_NODEV, "size=64m,mode=0755")
    shutil.copytree(f"/proc/self/fd/{original}", "/etc", symlinks=True, ignore_dangling_symlinks=True,
                    dirs_exist_ok=True)
    os.close(original)
    for name, lines in extra.items():
        path = os.path.join("/etc", name)
        before = open(path).read() if os.path.exists(path) else ""
        with open(path, "w") as handle:
            handle.write(before + ("\n" if before and not before.endswith("\n") else "") + "".join(
                line + "\n" for line in lines))
        os.chmod(path, 0o644)


def main(arguments):
    separator = arguments.index("--")
    with open(arguments[0]) as handle:
        spec = json.load(handle)
    check(LIBC.unshare(CLONE_NEWNS), "unshare")
    mounts.mount(None, "/", None, mounts.MS_REC | mounts.MS_PRIVATE, None)
    cover_etc(spec["etc"])
    open_up(spec["paths"])
    command = arguments[separator + 1:]
    groups = ",".join(str(group) for group in spec.get("groups", [])) or None
    os.execvp("setpriv", ["setpriv", "--reuid", str(spec["uid"]), "--regid", str(spec["gid"]),
                          *(["--groups", groups] if groups else ["--clear-groups"]),
                          "--", *command])


if __name__ == "__main__":
    main(sys.argv[1:])
