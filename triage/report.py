"""TEMPORARY merge aid (issue 14, branch s14-cli): delete when s14-playbooks is merged.

`triage/playbooks.py` (moved by another branch, so not edited here) still imports md and md_code
from this path; their home is `triage.render.escape`. At the merge, point render/plan.py (or
playbooks.py) at `triage.render.escape` and delete this file.
"""

from triage.render.escape import md, md_code

__all__ = ["md", "md_code"]
