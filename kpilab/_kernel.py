"""One Jupyter kernel for every notebook of a run, reset between notebooks.

Why: a fresh kernel per notebook pays the kernel start and the imports of pandas, scipy,
statsmodels, matplotlib and kpilab again for each of the review's nine notebooks (about four
seconds each on two cores, a third of a 500-agent review). The runner instead starts one kernel,
and before each notebook :func:`reset_session` runs inside it: the user namespace is emptied (as
``%reset -f``), figures are closed, matplotlib's settings and the warning filters are put back as
they were before the first notebook, and memory is collected. Imported modules and the ingest
cache of checked files stay, which is the point. A notebook therefore sees exactly the names its
own cells and its injected parameters define, as in a fresh kernel.

``kpilab run --fresh-kernels`` (``execute(..., shared_kernel=False)``) keeps one kernel per
notebook, for a notebook that changes process-wide state the reset does not cover.
"""

from __future__ import annotations

import gc
import sys
import warnings
from typing import Any

__all__ = ["SharedKernel", "reset_session", "RESET_CODE", "ENGINE_NAME", "register_engine"]

# what the runner sends to the kernel before each notebook
RESET_CODE = "import kpilab._kernel as _kpilab_kernel; _kpilab_kernel.reset_session(get_ipython())"

_SNAPSHOT: dict[str, Any] = {}


def reset_session(shell: Any) -> None:
    """Return an IPython kernel to the state a fresh notebook expects.

    The first call imports pyplot and records matplotlib's settings and the warning filters; each call
    restores them,
    closes every figure, empties the user namespace (``shell.reset(new_session=False)``, the
    ``%reset -f`` magic) and collects garbage.
    """
    if "warnings" not in _SNAPSHOT:
        # pyplot first: importing it applies the inline backend's settings, part of a fresh kernel's state
        import matplotlib.pyplot  # noqa: F401

        _SNAPSHOT["warnings"] = list(warnings.filters)
        _SNAPSHOT["rc"] = dict(sys.modules["matplotlib"].rcParams)
    else:
        warnings.filters[:] = _SNAPSHOT["warnings"]
        mutated = getattr(warnings, "_filters_mutated", None) or getattr(warnings, "_filters_mutated_lock_held", None)
        if mutated is not None:  # forget which "once" warnings were shown, as a new process would
            mutated()
    sys.modules["matplotlib.pyplot"].close("all")
    with warnings.catch_warnings():  # restoring deprecated keys warns
        warnings.simplefilter("ignore")
        sys.modules["matplotlib"].rcParams.update(_SNAPSHOT["rc"])
    shell.reset(new_session=False)
    gc.collect()
    _release_freed_memory()


def _release_freed_memory() -> None:
    """Hand memory freed by the previous notebook back to the operating system (glibc and pyarrow's
    allocator keep it otherwise).

    Without it the shared kernel's resident size stays at the largest notebook's high-water mark plus
    fragmentation, which a fresh kernel per notebook did not have.
    """
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:  # pandas' text columns live in pyarrow's own allocator (jemalloc or mimalloc)
        try:
            pyarrow.default_memory_pool().release_unused()
        except Exception:  # noqa: BLE001 - an allocator without the call: nothing to release
            pass
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to trim
        pass


class SharedKernel:
    """A started kernel the runner hands to each papermill execution (``km=``).

    Parameters
    ----------
    kernel_name : str
        Jupyter kernel spec.
    cwd : str
        Working directory of the kernel (the notebooks' paths are relative to it).
    start_timeout, reset_timeout : int
        Seconds to wait for the kernel to start and for a reset.
    extra_arguments : list of str
        Kernel command-line arguments.
    """

    def __init__(self, kernel_name: str, cwd: str, *, start_timeout: int = 120, reset_timeout: int = 120,
                 extra_arguments: list[str] | None = None) -> None:
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.reset_timeout = reset_timeout
        self.extra_arguments = list(extra_arguments or [])
        self.km: Any = None

    def __enter__(self) -> SharedKernel:
        from jupyter_client import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.km = AsyncKernelManager(kernel_name=self.kernel_name)
        run_sync(self.km.start_kernel)(cwd=self.cwd, extra_arguments=self.extra_arguments)
        return self

    def reset(self) -> None:
        """Run :data:`RESET_CODE` in the kernel (raises when it fails: the run must not go on).

        Only the shell channel is used: the reply arrives when the reset is done, and no output is
        expected (a full client with ``wait_for_ready`` costs 0.2 s more per notebook).
        """
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info(self.km.get_connection_info())
        kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        try:
            msg_id = kc.execute(RESET_CODE, silent=True, store_history=False)
            while True:
                reply = kc.get_shell_msg(timeout=self.reset_timeout)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        finally:
            kc.stop_channels()
        content = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(f"Resetting the kernel between notebooks failed: {content.get('ename')}: "
                               f"{content.get('evalue')}")

    def alive(self) -> bool:
        """Whether the kernel process still runs (a notebook may have killed it, e.g. out of memory)."""
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def __exit__(self, *exc: object) -> None:
        from jupyter_core.utils import run_sync

        if self.km is not None and self.km.has_kernel:
            run_sync(self.km.shutdown_kernel)(now=True)
        self.km = None


# ------------------------------------------------------------------------- papermill engine
ENGINE_NAME = "kpilab"
SAVE_EVERY_S = 5.0


def register_engine() -> str:
    """Register (once) papermill's nbclient engine with throttled saves; returns its name.

    Papermill writes the whole output notebook before and after every cell (two JSON
    serialisations of a notebook holding every figure so far, per cell: about half a second per
    notebook of the review). This engine writes it at most every :data:`SAVE_EVERY_S` seconds while
    the notebook runs, so a long cell still shows progress on disk, and always once at the end or
    when a cell fails (papermill's own final save).
    """
    import time

    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE_NAME in papermill_engines._engines:
        return ENGINE_NAME

    class ThrottledSaveEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            save = nb_man.save
            last = [time.monotonic()]

            def throttled(**kw: Any) -> None:
                now = time.monotonic()
                if now - last[0] >= SAVE_EVERY_S:
                    last[0] = now
                    save(**kw)

            nb_man.save = throttled
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            finally:
                nb_man.save = save  # papermill's final save (notebook_complete) writes the result

    papermill_engines.register(ENGINE_NAME, ThrottledSaveEngine)
    return ENGINE_NAME
