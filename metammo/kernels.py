"""Calling compiled kernels without numba's per-call argument typing.

On every call, a numba dispatcher fingerprints the type of each argument to find the compiled
version: about 0.07 us per array, 2 us for the entities' 27 arrays in one NamedTuple, 6 us
for the engine's tick (five NamedTuples of arrays). The env and the games call a few kernels
every tick with arguments whose types never change (the env's buffers, the state's arrays,
the :class:`~metammo.systems.params.Params` NamedTuple of Python scalars), so they call them
through a :class:`Kernels`, which resolves each kernel's compiled version once.
"""

from __future__ import annotations

from typing import Any, Callable

from numba.core.registry import CPUDispatcher


class Kernels:
    """Calls numba kernels, each through its compiled version for the numba types of the
    arguments of its first call here (compiled, or loaded from numba's cache, when it has
    none yet): ``kernels(kernel, *args)`` does what ``kernel(*args)`` does, without the
    dispatcher's typing.

    Its owner must pass each kernel arguments of the types of that first call on every later
    call: arrays of the same dtype, dimensions, layout and writability; NamedTuples with fields
    of the same types; scalars of the same kinds. The types are not checked again: an array of
    another type is read as raw memory of the first call's type (int64 bits as float64, a 2-D
    array as 1-D), a read-only array is written, and a scalar is converted (2.7 to an int
    parameter is 2).

    Pickling keeps no bindings (compiled code does not pickle): an unpickled owner binds its
    kernels again on their first calls. With numba's JIT off (``NUMBA_DISABLE_JIT=1``) kernels
    are plain functions and are called as they are.
    """

    def __init__(self) -> None:
        self._bound: dict[Callable[..., Any], Callable[..., Any]] = {}

    def __call__(self, kernel: CPUDispatcher, *args: Any) -> Any:
        compiled = self._bound.get(kernel)
        if compiled is None:
            if isinstance(kernel, CPUDispatcher):
                compiled = kernel.compile(tuple(kernel.typeof_pyval(a) for a in args))
            else:  # the JIT is off
                compiled = kernel
            self._bound[kernel] = compiled
        return compiled(*args)

    def __reduce__(self) -> tuple:
        return Kernels, ()
