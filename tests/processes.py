"""Finding processes by what their command lines name: a test's marker, a run's scratch folder."""

import psutil


def processes_naming(*texts):
    """Every process on the machine whose command line contains one of `texts`."""
    return [process for process in psutil.process_iter(["cmdline"])
            if any(text in " ".join(process.info["cmdline"] or []) for text in texts)]
