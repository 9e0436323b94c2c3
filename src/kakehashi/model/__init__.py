"""Problems: the canonical matrix form, the modelling API, readers and writers."""

from kakehashi.model.problem import ConstraintGroup, Problem, VarArray

__all__ = ["ConstraintGroup", "Problem", "VarArray"]
