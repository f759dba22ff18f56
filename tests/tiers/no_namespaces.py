"""Run a command the way a container's default seccomp profile would let it run:
``unshare``, ``setns``, ``mount`` and ``clone`` with namespace flags fail with EPERM.

The real mechanism, not a flag: the filter is installed in this process and inherited
by the command and everything it starts, so the grader finds namespaces refused and
must fall back (tests/test_tiers.py).

    python tests/tiers/no_namespaces.py COMMAND [ARGS...]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from grader.sandbox import seccomp  # noqa: E402

seccomp.install(seccomp.CONTAINER_DENIED, sockets="any")
os.execvp(sys.argv[1], sys.argv[1:])
