"""Baselines: scripted bots, torch policies, the PPO trainer and the Hydra entry points.
Not built yet."""
