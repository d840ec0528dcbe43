"""Start a sandboxed kernel as grading does, run a cell in it, and describe from outside every
process under it (the uid tests; ``python kernel_probe.py CELL`` runs as another account).

As a program it checks the sandbox as ``autograder grade`` does, probes a cold kernel and a warm
one with the cell, and prints one line of JSON: whether kernel ids are mappable, the process
bound, and each kernel's description.
"""

import asyncio
import json
import sys

import psutil

from autograder.grade.autograde import STARTUP_FILES
from autograder.sandbox.kernel import SandboxedKernelManager
from autograder.sandbox.policy import Sandbox

FIELDS = ("Uid", "Gid", "Groups", "CapEff", "NSpid")

# Says where the kernel's sockets are, and whether it can lock the grader out of their folder.
LOCKS_ITS_SOCKET_FOLDER = """
import errno as _errno, json as _json, os as _os
_folder = _os.path.dirname(_json.load(open("kernel-connection.json"))["ip"])
try:
    _os.chmod(_folder, 0)
    print("chmod done")
except OSError as _error:
    print("chmod", _errno.errorcode[_error.errno])
"""


def status(pid):
    """{field: values} of /proc/`pid`/status, read from the grader's side."""
    with open(f"/proc/{pid}/status") as handle:
        return {line.split(":")[0]: line.split(":", 1)[1].split() for line in handle}


async def probe(cell, pool=None):
    """Start a kernel (cold, or forked from `pool`), run `cell` in it and describe it.

    Returns
    -------
    dict
        ``status`` of the cell, what it ``printed`` (text and error values), the ``leader`` (pid of
        the sandbox's outermost process), the ``processes`` under it (`FIELDS` of their status,
        read while the kernel lives), and whether the kernel's ``folder left`` behind it.
    """
    manager = SandboxedKernelManager(sandbox=Sandbox(memory_bytes=1 << 30), startup_files=STARTUP_FILES,
                                     fork_server=pool, kernel_name="python3")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        printed = []
        reply = await client.execute_interactive(cell, timeout=60, output_hook=lambda message: printed.append(
            message["content"].get("text", message["content"].get("evalue", ""))))
        leader = manager.provisioner.process.pid
        processes = [{key: status(child.pid)[key] for key in FIELDS}
                     for child in psutil.Process(leader).children(recursive=True)]
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
    return {"status": reply["content"]["status"], "printed": "".join(printed), "leader": leader,
            "processes": processes, "folder left": manager.folder.exists()}


def main(cell):
    from autograder.sandbox import cgroups, namespaces
    from autograder.sandbox.policy import check_available
    from autograder.sandbox.warm_kernels import KernelForkServer
    check_available()
    pool = KernelForkServer(Sandbox())
    try:
        found = {"mappable": namespaces.kernel_ids_mappable(), "bound": cgroups.process_bound(),
                 "cold": asyncio.run(probe(cell)), "warm": asyncio.run(probe(cell, pool))}
    finally:
        pool.stop()
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1])
