"""Plans as data, and the cost model and planner that choose them (no grpc, no torch)."""

from splitvlm.errors import PlanError
from splitvlm.plan.plan import Plan, Precision, Step, Tier

__all__ = ["Plan", "PlanError", "Precision", "Step", "Tier"]
