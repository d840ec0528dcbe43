"""nbgrader configuration of the Optimization Methods course (run nbgrader from this folder).

The repository root is the course directory: ``source/`` and ``release/`` live here, and the
instructor's ``submitted/``, ``autograded/``, ``feedback/`` and ``gradebook.db`` appear here too.
"""

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "optimization-methods"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A warning printed on stderr (numpy's RuntimeWarning for an overflow in exp, say) would score a
# test cell 0; only warnings are dropped, any other stderr output still counts.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\b\w*Warning: "

# The slowest cell takes under a second when nbgrader runs the notebook (training is shortened
# then); 15 s leaves room for slow but correct code and bounds what an endless loop costs.
c.Execute.timeout = 15

# Formgrader renders autograded notebooks on the instructor's own server with nbconvert's
# HTMLExporter: what a student's outputs display must not run there. The grader already makes
# student content inert (autograder/grade/inert.py, markup.py); this is the second wall, for outputs. Its
# cleaner is the kit's (nh3), which keeps a table's header row where nbconvert's own drops it.
c.HTMLExporter.sanitize_html = True
try:  # the kit's cleaner where the server can import the kit; nbconvert's own elsewhere
    import autograder.grade.markup  # noqa: F401
    c.HTMLExporter.filters = {"clean_html": "autograder.grade.markup.inert_html"}
except ImportError:
    pass
