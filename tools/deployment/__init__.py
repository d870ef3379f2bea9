"""tools/deploy.py's parts: offline checks (checks.py), the template bucket (upload.py), the change set
(changeset.py), the plan and guard shared with the offline plan (plan.py), the event stream (events.py), and the
probe CI runs an upgrade under (zero_downtime.py)."""
