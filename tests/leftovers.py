"""What a test's code may have left on the machine, found by a marker word it alone uses."""

import os

# The machine's shared temporary folders: where code that escaped its sandbox would write.
TEMPORARY = ("/tmp", "/dev/shm", "/var/tmp")


def files_naming(marker):
    """Paths in `TEMPORARY` whose names contain `marker`."""
    return [os.path.join(folder, name) for folder in TEMPORARY for name in os.listdir(folder) if marker in name]
