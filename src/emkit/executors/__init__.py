"""Executors run the map (an E-step over row chunks) and the reduce (a sum of ``Stats``).

The model never knows where its rows live. ``InMemoryExecutor`` is the reference; streamed and
distributed executors must give the same statistics up to floating-point reassociation.
"""

from emkit.executors.base import Executor
from emkit.executors.memory import InMemoryExecutor

__all__ = ["Executor", "InMemoryExecutor"]
