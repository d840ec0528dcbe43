"""An nbgrader course directory as the autograder sees it."""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from traitlets.config.loader import PyFileConfigLoader

from . import assignments

# The kit's own folder in a course: the ledger key, then per assignment the results ledger, the
# manifests and the gradebook copies that grading reads (the `Course` methods below name each).
KIT_FOLDER = ".autograder"

# The gradebook's tables that define an assignment (what grading a submission reads), parents first.
ASSIGNMENT_TABLES = ("course", "assignment", "notebook", "base_cell", "source_cell", "grade_cells",
                     "solution_cells", "task_cells")


class CourseError(Exception):
    """The course directory is not usable as it is; the message says what to do."""


@dataclass
class Course:
    """A course directory: its root, nbgrader's course id, the gradebook's database URL
    (``c.CourseDirectory.db_url`` in ``nbgrader_config.py``; ``gradebook.db`` in the root by
    default), and the folders of the course's own assignment plug-ins (``c.Kit.assignment_folders``,
    relative to the root; `autograder.assignments`), which opening it makes known."""

    root: Path
    course_id: str
    configured_db_url: str = ""
    assignment_folders: tuple = ()

    @classmethod
    def open(cls, root):
        root = Path(root).resolve()
        config_file = root / "nbgrader_config.py"
        if not config_file.is_file():
            raise CourseError(f"{root} is not a course directory: it has no nbgrader_config.py")
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        directory = config.get("CourseDirectory", {})
        course_id = directory.get("course_id") or "default_course"
        db_url = directory.get("db_url") or ""
        if db_url:
            try:
                make_url(db_url)
            except ArgumentError:
                raise CourseError(f"c.CourseDirectory.db_url in {config_file} is not a database URL: {db_url!r}") from None
        folders = config.get("Kit", {}).get("assignment_folders", [])
        if isinstance(folders, str) or not all(isinstance(folder, str) for folder in folders):
            raise CourseError(f"c.Kit.assignment_folders in {config_file} should be a list of folder names")
        folders = tuple(root / folder for folder in folders)
        missing = [str(folder) for folder in folders if not folder.is_dir()]
        if missing:
            raise CourseError(f"c.Kit.assignment_folders in {config_file} names no folder at {', '.join(missing)}")
        assignments.use_folders(folders)
        return cls(root, course_id, db_url, folders)

    def assignment(self, name):
        """The assignment `name` (`autograder.assignments.get`), as a `CourseError` when unknown."""
        try:
            return assignments.get(name)
        except assignments.UnknownAssignment as error:
            raise CourseError(str(error)) from None

    def plugin_folders(self):
        """The course's plug-in folders relative to its root, for what carries the course elsewhere
        (a Dask bundle, a Gradescope zip), which holds them at the same place.

        Raises
        ------
        CourseError
            For a folder outside the course, which could not travel with it.
        """
        outside = [str(folder) for folder in self.assignment_folders if self.root not in folder.resolve().parents]
        if outside:
            raise CourseError(f"c.Kit.assignment_folders names {', '.join(outside)}, outside the course: a Dask "
                              "worker or a Gradescope image gets only the course; move it inside and name it "
                              "relative to the course")
        return [folder.resolve().relative_to(self.root) for folder in self.assignment_folders]

    def released(self):
        """The names of the assignments released in this course (a folder in ``release/``), sorted."""
        release = self.root / "release"
        return sorted(path.name for path in release.iterdir() if path.is_dir()) if release.is_dir() else []

    @property
    def db_url(self):
        return self.configured_db_url or f"sqlite:///{self.root / 'gradebook.db'}"

    @property
    def gradebook(self):
        """The gradebook's file, for an SQLite gradebook; None for a database server's."""
        url = make_url(self.db_url)
        if url.get_backend_name() != "sqlite" or not url.database:
            return None
        return (self.root / url.database) if not Path(url.database).is_absolute() else Path(url.database)

    @property
    def gradebook_name(self):
        """The gradebook as an instructor would name it: its file, or its URL without the password."""
        return str(self.gradebook) if self.gradebook else make_url(self.db_url).render_as_string(hide_password=True)

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
        """The autograder's own folder for an assignment (``.autograder/<assignment>/``): results,
        manifests, snapshots. Made if missing."""
        path = self.root / KIT_FOLDER / assignment
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def ledger_key(self):
        """The file of the key the results ledger is signed with (``.autograder/ledger.key``)."""
        return self.root / KIT_FOLDER / "ledger.key"

    def ledger_folder(self, assignment):
        """The results ledger of an assignment, one JSON file per student
        (``.autograder/<assignment>/results/``); not made here, so that asking does not create it."""
        return self.root / KIT_FOLDER / assignment / "results"

    def collect_manifest(self, assignment):
        """What `autograder collect` did with each file of a download (``collect-manifest.csv``)."""
        return self.work(assignment) / "collect-manifest.csv"

    def grade_manifest(self, assignment):
        """One line per grading (``grade-manifest.csv``)."""
        return self.work(assignment) / "grade-manifest.csv"

    def gradebook_snapshot(self, assignment):
        """Where a local run keeps the gradebook copy its workers read (``gradebook-snapshot.db``)."""
        return self.work(assignment) / "gradebook-snapshot.db"

    def assignment_gradebook(self, assignment):
        """Where a Dask run keeps the copy of the assignment's tables sent to the cluster
        (``assignment-gradebook.db``)."""
        return self.work(assignment) / "assignment-gradebook.db"

    def gradebook_exists(self):
        """Whether the gradebook is there: its file, or a database server that answers and holds
        nbgrader's tables. `CourseError` when the server cannot be reached."""
        if self.gradebook is not None:
            return self.gradebook.is_file()
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as connection:
                return inspect(connection).has_table("assignment")
        except SQLAlchemyError as error:
            raise CourseError(f"cannot reach the gradebook at {self.gradebook_name}: "
                              f"{str(error.orig if hasattr(error, 'orig') else error).strip()}") from None
        finally:
            engine.dispose()

    def snapshot_gradebook(self, target):
        """A consistent SQLite copy of the gradebook, safe while it is written to: the whole
        file (SQLite's backup API), or, from a database server, the tables that define the
        assignments (what grading reads; no student, submission or grade)."""
        target = Path(target)
        if self.gradebook is not None:
            source, copy = sqlite3.connect(self.gradebook), sqlite3.connect(target)
            with copy:
                source.backup(copy)
            source.close()
            copy.close()
            return target
        return self.copy_assignment_tables(target)

    def copy_assignment_tables(self, target):
        """A new SQLite gradebook at `target` holding only the tables that define the assignments
        (no student, submission or grade): what a grading worker reads."""
        from nbgrader.api import Base

        target = Path(target)
        target.unlink(missing_ok=True)
        server, local = create_engine(self.db_url), create_engine(f"sqlite:///{target}")
        try:
            Base.metadata.create_all(local)
            with server.connect() as reading, local.begin() as writing:
                for name in ASSIGNMENT_TABLES:
                    table = Base.metadata.tables[name]
                    rows = [dict(row) for row in reading.execute(table.select()).mappings()]
                    if rows:
                        writing.execute(table.insert(), rows)
        finally:
            server.dispose()
            local.dispose()
        return target
