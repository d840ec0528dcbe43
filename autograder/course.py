"""An nbgrader course directory as the autograder sees it."""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader


class CourseError(Exception):
    """The course directory is not usable as it is; the message says what to do."""


@dataclass
class Course:
    root: Path
    course_id: str

    @classmethod
    def open(cls, root):
        root = Path(root).resolve()
        config_file = root / "nbgrader_config.py"
        if not config_file.is_file():
            raise CourseError(f"{root} is not a course directory: it has no nbgrader_config.py")
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        course_id = config.get("CourseDirectory", {}).get("course_id") or "default_course"
        return cls(root, course_id)

    @property
    def gradebook(self):
        return self.root / "gradebook.db"

    @property
    def db_url(self):
        return f"sqlite:///{self.gradebook}"

    def notebook_name(self, assignment):
        """The assignment's one notebook, as released."""
        release = self.root / "release" / assignment
        notebooks = sorted(release.glob("*.ipynb"))
        if len(notebooks) != 1:
            raise CourseError(f"release/{assignment}/ should hold exactly one notebook, found {len(notebooks)}: "
                              "run `make release` or `nbgrader generate_assignment` first")
        return notebooks[0].name

    def submitted(self, assignment, student=None):
        folder = self.root / "submitted"
        return folder / student / assignment if student else folder

    def students_with_submissions(self, assignment):
        folder = self.submitted(assignment)
        return sorted(path.name for path in folder.iterdir() if (path / assignment).is_dir()) if folder.is_dir() else []

    def work(self, assignment):
        """The autograder's own folder for an assignment: results, manifests, snapshots."""
        path = self.root / ".autograder" / assignment
        path.mkdir(parents=True, exist_ok=True)
        return path

    def snapshot_gradebook(self, target):
        """A consistent copy of the gradebook (SQLite's backup API), safe while it is written to."""
        source, copy = sqlite3.connect(self.gradebook), sqlite3.connect(target)
        with copy:
            source.backup(copy)
        source.close()
        copy.close()
        return Path(target)
