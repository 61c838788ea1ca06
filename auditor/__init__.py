"""compute-auditor: a read-only auditor for AWS ECS, EKS and Lambda.

The pipeline reads top to bottom: collect -> model -> checks -> cost -> report.
"""

__version__ = "0.1.0"
