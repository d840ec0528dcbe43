"""The grading sandbox in force on this machine: what a program inside can and cannot do."""

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest

from autograder.sandbox.cgroups import sandbox_groups_home
from autograder.sandbox.policy import CGROUPS_VARIABLE, Sandbox, check_available
from autograder.sandbox.lifetime import processes_naming
from leftovers import TEMPORARY, files_naming


def run_inside(tmp_path, code, sandbox=None, timeout=60):
    """Run `code` with the kit's Python in a fresh sandbox; (exit code, stdout, stderr)."""
    work, sockets = tmp_path / "work", tmp_path / "sockets"
    work.mkdir()
    sockets.mkdir()
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(code))
    sandbox = sandbox or Sandbox(memory_bytes=1 << 30)
    sandbox.files = list(sandbox.files) + [(str(script), "program.py")]
    done = subprocess.run(sandbox.command([sys.executable, "program.py"], work, sockets),
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def test_the_sandbox_is_available_here():
    check_available()


def test_a_grader_that_is_pid_1_can_start_the_sandbox():
    """In a container the grader may be its pid namespace's first process (Gradescope's
    run_autograder, exec'd): a sandbox it starts must not take it for a dead parent."""
    done = subprocess.run(["unshare", "--pid", "--fork", "--mount", "--mount-proc", "--",
                           sys.executable, "-c", "import os; from autograder.sandbox.policy import check_available; "
                           "assert os.getpid() == 1; check_available(); print('started')"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "started" in done.stdout, done.stderr


def test_a_file_placed_outside_cannot_be_read(tmp_path):
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("the answers")
    code, out, err = run_inside(tmp_path, f"""
        try:
            print(open({str(secret)!r}).read())
        except (PermissionError, FileNotFoundError):  # where the kernel has a uid of its own, its
            print("denied")  # 0700 ancestor is covered: the file is not even there
    """)
    assert (code, out.strip()) == (0, "denied"), err


def test_a_loopback_listener_gets_no_connection(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted, ended = [], threading.Event()

    def accept():
        # Until the program has ended, and once more after: a connection it made is then
        # waiting in the listener's backlog, and that last accept takes it.
        while True:
            last = ended.is_set()
            try:
                accepted.append(listener.accept())
            except OSError:
                pass
            if last:
                return

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        code, out, err = run_inside(tmp_path, f"""
            import socket
            for host in ("127.0.0.1", "localhost", "::1"):
                try:
                    socket.create_connection((host, {port}), timeout=2)
                    print("connected")
                except OSError as error:
                    print("refused", type(error).__name__)
        """)
    finally:
        ended.set()
        thread.join()
    listener.close()
    assert accepted == [] and "connected" not in out, (out, err)


def test_kit_packages_are_out_of_reach_and_the_library_read_only(tmp_path):
    code, out, err = run_inside(tmp_path, """
        import importlib, os, sys, numpy
        for name in ("solutions", "autograder"):
            try:
                importlib.import_module(name)
                print("imported", name)
            except Exception as error:
                print("no", name, type(error).__name__)
        try:
            open(os.path.join(os.path.dirname(numpy.__file__), "__init__.py"), "a").write("# poisoned")
            print("wrote numpy")
        except OSError:
            print("numpy read-only")
    """)
    assert code == 0, err
    assert "imported" not in out and "wrote numpy" not in out and "numpy read-only" in out


def test_environment_is_an_allow_list(tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_TEST_SECRET", "hunter2")
    code, out, err = run_inside(tmp_path, """
        import os
        print(sorted(os.environ))
        for process in ("self", "1"):  # the namespace's first process is closed to a kernel uid
            try:
                print(open(f"/proc/{process}/environ", "rb").read())
            except PermissionError:
                print("closed", process)
    """)
    assert code == 0, err
    assert "hunter2" not in out and "KIT_TEST_SECRET" not in out


def test_no_other_process_is_visible(tmp_path):
    code, out, err = run_inside(tmp_path, """
        import os
        print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
    """)
    assert code == 0, err
    assert eval(out) == [1, 2]  # the namespace's first process and the program itself


def test_every_process_ends_with_the_sandbox(tmp_path):
    marker = f"kit-leftover-{uuid.uuid4().hex[:8]}"
    code, out, err = run_inside(tmp_path, f"""
        import os, subprocess, sys
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", {marker!r}], start_new_session=True)
        if os.fork() == 0:  # a double-forked daemon
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", {marker!r}])
            os._exit(0)
        print("started")
    """)
    assert code == 0 and "started" in out, err
    time.sleep(0.5)
    left = processes_naming(marker)
    assert left == []


def test_processes_disk_and_memory_are_capped(tmp_path):
    code, out, err = run_inside(tmp_path, """
        import os, time
        children = 0
        try:
            for _ in range(500):
                if os.fork() == 0:
                    time.sleep(5)
                    os._exit(0)
                children += 1
        except OSError:
            pass
        print("processes", children)
        try:
            with open("fill", "wb") as handle:
                for _ in range(200):
                    handle.write(b"x" * (1 << 20))
            print("disk unbounded")
        except OSError:
            print("disk full")
        try:
            block = bytearray(3 << 30)
            print("memory unbounded")
        except MemoryError:
            print("memory capped")
    """, sandbox=Sandbox(memory_bytes=1 << 30, processes=32, work_bytes=16 << 20))
    assert code == 0, err
    count = int(out.split("processes ")[1].split()[0])
    assert count < 32 and "disk full" in out and "memory capped" in out


def test_temporary_folder_is_private_and_left_empty(tmp_path):
    marker = f"kit-tmp-{uuid.uuid4().hex[:8]}"
    code, out, err = run_inside(tmp_path, f"""
        import os, tempfile
        for folder in {TEMPORARY!r}:
            try:
                open(os.path.join(folder, {marker!r}), "w").write("x")
                print("wrote", folder)
            except OSError:
                print("denied", folder)
    """)
    assert code == 0, err
    assert [line for line in out.splitlines() if line.startswith("wrote")] == []
    assert out.count("denied") == len(TEMPORARY)
    assert files_naming(marker) == []


@pytest.mark.parametrize("target", ["parent", "everyone"])
def test_signals_cannot_reach_outside(tmp_path, target):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        code, out, err = run_inside(tmp_path, f"""
            import os, signal
            for pid in ({os.getpid()}, {bystander.pid}):
                try:
                    os.kill(pid, signal.SIGKILL)
                    print("sent", pid)
                except OSError as error:
                    print("could not", type(error).__name__)
            if {target == "everyone"}:
                os.kill(-1, signal.SIGKILL)
        """)
        assert bystander.poll() is None
    finally:
        bystander.kill()


def test_the_sandbox_dies_with_whoever_started_it(tmp_path):
    """A grading worker killed outright leaves no kernel behind."""
    marker = f"kit-orphan-{uuid.uuid4().hex[:8]}"
    work, sockets = tmp_path / "work", tmp_path / "sockets"
    work.mkdir()
    sockets.mkdir()
    command = Sandbox(memory_bytes=1 << 30).command(
        [sys.executable, "-c", "import time; time.sleep(300)", marker], work, sockets)
    starter = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                                "subprocess.Popen(sys.argv[1:]); time.sleep(300)", *command])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not [p for p in processes_naming(marker)
                                               if "launch.py" not in " ".join(p.info["cmdline"] or [])]:
        time.sleep(0.2)
    starter.kill()
    starter.wait()
    time.sleep(1)
    assert [p.pid for p in processes_naming(marker)] == []


def test_it_works_for_a_user_who_is_not_root(tmp_path):
    """Run as uid 65534 in a user namespace of its own, where the pids cgroup is not writable: the
    launcher nests its namespaces and Landlock still holds. (Processes are then capped by
    RLIMIT_NPROC, which this test cannot show: its user is still root to the kernel's accounting.)"""
    secret = tmp_path / "secret.txt"
    secret.write_text("the answers")
    work, sockets = tmp_path / "work", tmp_path / "sockets"
    work.mkdir()
    sockets.mkdir()
    probe = textwrap.dedent(f"""
        import os
        try:
            open({str(secret)!r}).read()
            print("read the secret")
        except OSError as error:  # not in the kernel's own root (and closed by Landlock besides)
            print("denied", type(error).__name__)
        print("uid", os.getuid(), sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
    """)
    command = Sandbox(memory_bytes=1 << 30).command([sys.executable, "-c", probe], work, sockets)
    done = subprocess.run(["unshare", "--user", "--map-user=65534", "--map-group=65534", "--", *command],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["denied FileNotFoundError", "uid 65534 [1, 2]"]


def test_the_operator_can_turn_pids_cgroups_off(tmp_path, monkeypatch):
    """``AUTOGRADER_SANDBOX_CGROUPS=off`` (for hosts where the grader must make no cgroup): the
    sandbox then has no pids group of its own (RLIMIT_NPROC bounds it, `test_kernel_uid`). Seen
    from outside, the sandbox's outermost process is in one otherwise; seen from inside (its own
    cgroup namespace) the kernel's cgroups name no path of the grader's."""
    program = tmp_path / "program.py"
    program.write_text("import sys; print(open('/proc/self/cgroup').read().replace(chr(10), ' '), flush=True); "
                       "sys.stdin.read()")
    groups, seen_inside = {}, {}
    for setting in ("", "off"):
        monkeypatch.setenv(CGROUPS_VARIABLE, setting)
        folder = tmp_path / (setting or "on")
        work, sockets = folder / "work", folder / "sockets"
        work.mkdir(parents=True)
        sockets.mkdir()
        sandbox = Sandbox(memory_bytes=1 << 30, files=[(str(program), "program.py")])
        with subprocess.Popen(sandbox.command([sys.executable, "program.py"], work, sockets), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as sandboxed:
            seen_inside[setting or "on"] = sandboxed.stdout.readline().split()
            groups[setting or "on"] = [line.strip() for line in open(f"/proc/{sandboxed.pid}/cgroup")
                                       if "sandbox-" in line]
            sandboxed.communicate("", timeout=60)
        assert sandboxed.returncode == 0
    assert groups["off"] == []
    if sandbox_groups_home() is not None:  # where a pids cgroup can be had, the sandbox is in one
        assert len(groups["on"]) == 1
    for lines in seen_inside.values():
        assert lines and all(line.endswith(":/") for line in lines), seen_inside


def test_in_its_own_root_no_outside_unix_socket_has_a_path(tmp_path):
    """In the kernel's own root (`mounts.enter_new_root`), a 0777 socket in /tmp and one in /run
    (which Landlock ABI 7, the network namespace and read-only mounts do not stop) have no path for it: connect() fails
    with ENOENT and the listeners receive nothing. It holds no capability in any set, runs under
    no_new_privs, and only the expected top-level entries exist."""
    import shutil
    import tempfile
    from pathlib import Path
    folders = [Path(tempfile.mkdtemp(dir=base)) for base in ("/tmp", "/run")]
    listeners, paths = [], []
    try:
        for folder in folders:
            os.chmod(folder, 0o755)
            path = str(folder / "open.sock")
            listener = socket.socket(socket.AF_UNIX)
            listener.bind(path)
            os.chmod(path, 0o777)
            listener.listen()
            listener.setblocking(False)
            listeners.append(listener)
            paths.append(path)
        probe = f"""
            import errno, os, socket
            for path in {paths!r}:
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(path); s.sendall(b"hello"); print("connected")
                except OSError as error:
                    print(errno.errorcode[error.errno])
            status = dict(line.split(":\\t") for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
            print(*[status[k].strip() for k in ("CapBnd", "CapPrm", "CapEff", "CapAmb", "CapInh", "NoNewPrivs")])
            print(*sorted(n for n in ("bin", "boot", "etc", "home", "lib", "media", "mnt", "opt", "run", "srv",
                                      "tmp", "usr", "var", "root", "dev", "proc", "sys") if os.path.lexists("/" + n)))
        """
        code, out, err = run_inside(tmp_path, probe, sandbox=Sandbox(memory_bytes=1 << 30))
        assert code == 0, err
        lines = out.splitlines()
        assert lines[:2] == ["ENOENT", "ENOENT"], out
        assert lines[2].split() == ["0000000000000000"] * 5 + ["1"], out
        assert set(lines[3].split()) <= {"dev", "etc", "lib", "lib64", "proc", "root", "sys", "tmp", "usr"}, out
        assert "run" not in lines[3].split() and "var" not in lines[3].split(), out
        for listener, path in zip(listeners, paths):
            with pytest.raises(BlockingIOError):
                listener.accept()
            with socket.socket(socket.AF_UNIX) as control:  # the socket itself was open to anyone
                control.connect(path)
                listener.setblocking(True)
                listener.accept()[0].close()
    finally:
        for listener in listeners:
            listener.close()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
