"""A Debian root filesystem built by debootstrap, and commands run in it as root, as Gradescope does.

Gradescope builds an autograder image by running the zip's ``setup.sh`` as root on a bare base
image, then runs ``/autograder/run_autograder`` in it once per submission, on one CPU with about
1.5 GB of memory. The tests and benchmarks do the same in a root built from Debian's packages.

A command enters the root through new mount, PID, UTS and IPC namespaces and ``pivot_root``, not
``chroot``: inside a chroot the kernel refuses new user namespaces, which the grading sandbox
needs. The command is PID 1 of its namespace, so everything it starts ends with it. It runs
in a memory cgroup of its own, whose peak is read when it ends.
"""

import os
import shutil
import subprocess
import tempfile
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

DEBIAN_MIRROR = "http://deb.debian.org/debian"
UBUNTU_MIRROR = "http://archive.ubuntu.com/ubuntu"
# Ubuntu's suites, as Gradescope's base images have them: updates and security on, universe too.
UBUNTU_SUITES = {"jammy": "22.04", "noble": "24.04"}
# "Ubuntu Archive Automatic Signing Key (2018)", which signs both suites: the one key trusted.
UBUNTU_ARCHIVE_KEY = "F6ECB3762474EDA9D21B7022871920D1991BC93C"
UBUNTU_KEYRING_DEB = "pool/main/u/ubuntu-keyring/ubuntu-keyring_2021.03.26_all.deb"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Where a network inspects TLS with a certificate authority of its own (these machines' does), the
# root trusts what the host trusts: pip there is told of the host's bundle, copied in.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
ROOT_CA_BUNDLE = "/etc/ssl/host-ca-certificates.crt"

# Run by the host's sh inside the new namespaces: $1 is the root, the rest is env's arguments.
ENTER = """set -eu
root=$1; shift
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
cd "$root"
mkdir -p .host
pivot_root . .host
cd /
umount -l /.host
rmdir /.host
exec /usr/bin/env -i "$@"
"""


class RootUnavailable(Exception):
    """No Debian root can be built or entered here; the message says why."""


@dataclass
class Finished:
    """How a command in the root ended: its exit status, output, and peak memory in bytes."""

    returncode: int
    stdout: str
    stderr: str
    peak_memory: int | None


def check_available():
    """Raise RootUnavailable unless this machine can build and enter a Debian root."""
    if os.geteuid() != 0:
        raise RootUnavailable("building and entering a Debian root needs root")
    missing = [tool for tool in ("debootstrap", "unshare", "pivot_root", "taskset") if not shutil.which(tool)]
    if missing:
        raise RootUnavailable(f"missing {', '.join(missing)} (Debian: apt-get install debootstrap util-linux)")
    if memory_cgroup_root() is None:
        raise RootUnavailable("no memory cgroup (v1 memory controller or v2 memory.peak) to measure peak memory")


def build(path, suite="bookworm", cache=None):
    """Build a minimal root of `suite` at `path` with debootstrap; return a Root for it.

    `suite` is a Debian suite, or ``jammy`` or ``noble`` for Ubuntu 22.04 or 24.04 (Gradescope's
    base images). `cache` is a folder debootstrap keeps the downloaded packages in, across builds.
    """
    check_available()
    path = Path(path)
    options = ["--variant=minbase"]
    if cache:
        cache = Path(cache).resolve() / suite
        cache.mkdir(parents=True, exist_ok=True)
        options.append(f"--cache-dir={cache}")
    ubuntu = suite in UBUNTU_SUITES
    if ubuntu:
        path.mkdir(parents=True, exist_ok=True)
        keyring = path.parent / f"{path.name}-ubuntu-archive.gpg"
        _ubuntu_keyring(keyring)
        options += [f"--keyring={keyring}", "--components=main,universe"]
    # Ubuntu suites newer than this debootstrap share the script every Ubuntu suite links to.
    script = ["/usr/share/debootstrap/scripts/gutsy"] if ubuntu and not Path(
        f"/usr/share/debootstrap/scripts/{suite}").exists() else []
    done = subprocess.run(["debootstrap", *options, suite, str(path), UBUNTU_MIRROR if ubuntu else DEBIAN_MIRROR,
                           *script], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RootUnavailable(f"debootstrap {suite} failed: {(done.stdout + done.stderr).strip()[-500:]}")
    if ubuntu:
        (path / "etc/apt/sources.list").write_text("".join(
            f"deb {UBUNTU_MIRROR} {suite}{pocket} main restricted universe multiverse\n"
            for pocket in ("", "-updates", "-security")))
    shutil.copyfile("/etc/resolv.conf", path / "etc" / "resolv.conf")
    if HOST_CA_BUNDLE.exists():
        (path / ROOT_CA_BUNDLE.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HOST_CA_BUNDLE, path / ROOT_CA_BUNDLE.lstrip("/"))
    return Root(path)


def _ubuntu_keyring(out):
    """Write to `out` a keyring holding Ubuntu's archive key only, taken from the ubuntu-keyring
    package and known by its fingerprint (Debian's archive does not carry Ubuntu's keys)."""
    with tempfile.TemporaryDirectory(prefix="ubuntu-keyring-") as scratch:
        scratch = Path(scratch)
        deb = scratch / "ubuntu-keyring.deb"
        try:
            with urllib.request.urlopen(f"{UBUNTU_MIRROR}/{UBUNTU_KEYRING_DEB}", timeout=60) as response:
                deb.write_bytes(response.read())
        except OSError as error:
            raise RootUnavailable(f"Ubuntu's archive cannot be reached: {error}")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(scratch / "files")], check=True)
        home = scratch / "gnupg"
        home.mkdir(mode=0o700)
        exported = subprocess.run(
            ["gpg", "--homedir", str(home), "--no-default-keyring", "--keyring",
             str(scratch / "files/usr/share/keyrings/ubuntu-archive-keyring.gpg"), "--export", UBUNTU_ARCHIVE_KEY],
            capture_output=True, timeout=60)
        if exported.returncode != 0 or not exported.stdout:
            raise RootUnavailable(f"the ubuntu-keyring package holds no key {UBUNTU_ARCHIVE_KEY}")
        Path(out).write_bytes(exported.stdout)


class Root:
    """A root filesystem at `path` that commands run in as root."""

    def __init__(self, path):
        self.path = Path(path)

    def run(self, command, *, cwd="/", env=None, cpus=None, memory_limit=None, timeout=1800):
        """Run `command` (a list) in the root as root; return how it Finished.

        `env` is added to a clean environment (PATH, HOME=/root, LANG). `cpus` limits it to that
        many CPUs; `memory_limit` (bytes) caps its memory cgroup, as a Gradescope container's is.
        """
        variables = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8"}
        if (self.path / ROOT_CA_BUNDLE.lstrip("/")).exists():
            variables.update(PIP_CERT=ROOT_CA_BUNDLE, SSL_CERT_FILE=ROOT_CA_BUNDLE)
        variables.update(env or {})
        inside = ["-C", cwd, *(f"{name}={value}" for name, value in variables.items()), *command]
        argv = ["unshare", "--mount", "--pid", "--uts", "--ipc", "--fork", "--kill-child", "--propagation", "private",
                "--", "sh", "-c", ENTER, "enter", str(self.path), *inside]
        if cpus:
            argv = ["taskset", "--cpu-list", f"0-{cpus - 1}", *argv]
        with MemoryCgroup(memory_limit) as cgroup:
            argv = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup.procs), *argv]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
            peak = cgroup.peak()
        return Finished(done.returncode, done.stdout, done.stderr, peak)


def memory_cgroup_root():
    """The folder new memory cgroups are made in (v1 memory controller, or v2 with memory.peak), or None."""
    v1 = Path("/sys/fs/cgroup/memory")
    if (v1 / "memory.max_usage_in_bytes").exists():
        return v1
    v2 = Path("/sys/fs/cgroup")
    if (v2 / "cgroup.controllers").exists() and "memory" in (v2 / "cgroup.controllers").read_text().split():
        return v2
    return None


class MemoryCgroup:
    """A memory cgroup of its own for one command, removed afterwards."""

    def __init__(self, limit=None):
        self.folder = memory_cgroup_root() / f"kit-debian-root-{uuid.uuid4().hex[:12]}"
        self.v1 = (self.folder.parent / "memory.max_usage_in_bytes").exists()
        self.limit = limit
        self.procs = self.folder / "cgroup.procs"

    def __enter__(self):
        self.folder.mkdir()
        if self.limit:
            (self.folder / ("memory.limit_in_bytes" if self.v1 else "memory.max")).write_text(str(self.limit))
        return self

    def peak(self):
        """The most memory the cgroup's processes held at once, in bytes."""
        name = "memory.max_usage_in_bytes" if self.v1 else "memory.peak"
        return int((self.folder / name).read_text())

    def __exit__(self, *exc):
        # The command was PID 1 of its namespace: when it ended, all it started ended too.
        self.folder.rmdir()
