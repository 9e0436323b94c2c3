"""Problem → Qubo compilation, penalty weights, encodings and decoding.

Pure: nothing here samples or solves. The adaptive penalty loop that re-weights and
re-samples lives with the backends (:mod:`kakehashi.backends.penalty_loop`).
"""

from kakehashi.compile.compiler import Compiled, compile_problem
from kakehashi.compile.qubo import Qubo

__all__ = ["Compiled", "Qubo", "compile_problem"]
