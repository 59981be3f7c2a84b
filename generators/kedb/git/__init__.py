"""Everything that reads git: the one-pass history, the approval gate, the base diff and the review.

Every git command kedb runs, through GitPython or a subprocess, inherits this process's
environment, so replace objects are turned off here, once, for all of them: with ``git replace
X Y`` in the checked clone, git shows Y wherever X is asked for (its message, its tree, its
signature), and an unapproved commit could read as an approved one. kedb judges the objects
the history really holds.
"""

import os

os.environ["GIT_NO_REPLACE_OBJECTS"] = "1"
