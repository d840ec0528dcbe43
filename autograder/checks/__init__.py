"""How a hidden check is registered and judged, for any assignment (`autograder.assignments`)."""

from .registry import Aspect, Aspects
from .runner import NOT_IMPLEMENTED, judge
