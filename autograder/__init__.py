"""The grading pipeline of the Optimization Methods kit (see the README for its commands)."""

import sys

# jsonschema, which nbformat validates notebooks with, imports rfc3987_syntax when it is installed
# (jupyter-events asks for it) to check the "iri" formats, which no notebook schema uses; building
# that package's grammar costs 2 s of CPU at the start of every process of the kit (each grading
# worker, each command). Without it jsonschema only skips those two formats.
sys.modules.setdefault("rfc3987_syntax", None)
