"""Problem → Qubo compilation, penalty weights, encodings and decoding."""

from kakehashi.compile.compiler import Compiled, compile_problem
from kakehashi.compile.penalty import adaptive_solve
from kakehashi.compile.qubo import Qubo

__all__ = ["Compiled", "Qubo", "adaptive_solve", "compile_problem"]
