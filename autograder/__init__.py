"""The grading pipeline of the Optimization Methods kit (see the README for its commands)."""
