"""Engine systems, one module each. Every public function is a phase ``phase(state, cfg, ...)``
called by :meth:`metammo.env.Env.step` in the documented order; the per-entity loops are numba
kernels (``njit(cache=True)``) named with a leading underscore next to their phase."""
