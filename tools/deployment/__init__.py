"""tools/deploy.py's parts: the plan and guard (plan.py), shared by the live deploy and the offline plan."""
