"""Plans as data, and the cost model and planner that choose them (no grpc, no torch)."""

from splitvlm.plan.plan import Encoding, Plan, PlanError, Precision, Step, Tier

__all__ = ["Encoding", "Plan", "PlanError", "Precision", "Step", "Tier"]
