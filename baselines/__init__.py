"""Baselines: the scripted reference bot (:mod:`baselines.scripted`, registered as the policy
``scripted``). Torch policies, the PPO trainer and the Hydra entry points are not built yet."""
