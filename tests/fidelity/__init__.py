"""Fidelity harnesses (SPEC section 9): the real scan on responses it did not write itself.

- `test_generated.py`: whole accounts generated from botocore's own output shapes
  (`shapes.py`), one failure injected at a time; nothing may escape the scan.
- `test_containment.py`: the demo scan recorded once and replayed with one failure per
  operation or resource (`recording.py`, `containment.py`); only what depends on the failed
  call may change. `python -m tests.fidelity.containment` prints the containment table.
"""
