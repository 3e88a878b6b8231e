"""How a process that plans once runs and ends (`python -m tools.plan`, each sample of `tools.bench`)."""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn


def plan_once() -> None:
    """Set the process up to plan once and end.

    No cyclic garbage collection from here on: everything the process allocates dies with it.
    Left on, the collector walks the imports' objects as they load, and the run's (paused during
    it, see `mock_engine`) once the run ends, about 0.03 s after a prod plan, to free memory the
    process is about to return anyway. Peak memory is the same.

    No pydantic plugins: an installed package could hook the config model's validation and see
    the stack's values, and looking for them reads every installed package's entry points
    (about 5 ms)."""
    gc.disable()
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"


def exit_after_plan(code: int) -> NoReturn:
    """End the process once its output is out, without the interpreter's teardown.

    Everything the process allocated dies with it, and the teardown would only walk it all once
    more: the final cyclic collection (about 0.2 s after a prod plan), then every module's
    objects freed one by one (about 0.03 s). Nothing of ours needs it: no finalizer or atexit
    handler of ours does anything, a run's threads are joined before it returns, and the files
    a plan writes are closed as they are written."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # the reader has gone (`| head`): 120, as the interpreter's own exit says it
        code = 120
    os._exit(code)
