"""Engine systems, one module each, every one a compiled numba kernel (``njit(cache=True)``)
taking state groups (:class:`~metammo.state.Tiles`, ``Entities``, ``Events``), the kernels'
random stream and the episode's :class:`~metammo.systems.params.Params`.
:func:`metammo.systems.tick.tick` calls them in the documented order, once per tick."""
