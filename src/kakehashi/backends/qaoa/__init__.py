"""Gate-based QAOA: one shared core, one module per target.

* ``hamiltonian`` — the Ising cost of a Qubo in Pauli-Z form, exact energy tables, CVaR;
* ``circuit`` — the parameterised Qiskit circuit and the linear-ramp (TQA) schedule;
* ``optimize`` — COBYLA over the angles under an evaluation cap and a deadline;
* ``core`` — :class:`~kakehashi.backends.qaoa.core.QAOABackend` and the engine interface;
* ``aer`` (``qaoa-aer``), ``ibm`` (``qaoa-ibm``), ``braket`` (``qaoa-braket``,
  ``braket-local``) — the targets. Vendor SDKs are imported inside functions.
"""
