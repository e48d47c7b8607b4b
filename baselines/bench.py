"""End-to-end training throughput (env + policy + PPO update) of the baseline trainer.

    python -m baselines.bench --game mini_generalist --config mini --size small --updates 20 --json

Runs :class:`baselines.ppo.Trainer` with its default settings (``PPOConfig``: 2 envs, 64-tick
rollouts, 2 epochs, self-play) for ``--warmup`` updates (kernels compile, caches fill), then
``--updates`` timed ones, and prints the median agent-steps/s over the timed updates, the share
of their wall time spent stepping the envs, and the share of live focal agent-steps (the only
ones the update learns from). Checkpoints go to a temporary folder that is removed.
"""

from __future__ import annotations

import argparse
import json
import tempfile

import numpy as np

from metammo.cli import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m baselines.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", default="mini_generalist", help="game pack or game (default mini_generalist)")
    parser.add_argument("--config", default="mini", help="engine config: mini or full")
    parser.add_argument("--size", default="small", help="policy size: small or large")
    parser.add_argument("--updates", type=int, default=20, help="timed updates (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed updates first (default 3)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0, help="the trainer's seed (envs, network, sampling)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if args.updates < 1 or args.warmup < 0:
        parser.error(f"--updates must be >= 1 and --warmup >= 0, got {args.updates} and {args.warmup}")
    from baselines.ppo import PPOConfig, Trainer

    cfg = PPOConfig(game=args.game, config=args.config, policy_size=args.size, threads=args.threads,
                    device=args.device, seed=args.seed, checkpoint_every=10**9)
    records = []
    with tempfile.TemporaryDirectory() as run_dir:
        try:
            trainer = Trainer(cfg, run_dir)
        except ValueError as err:
            parser.error(str(err))
        trainer.total_updates = args.warmup + args.updates
        trainer.train(progress=records.append)
    timed = records[args.warmup:]
    result = {
        "game": args.game, "config": args.config, "size": args.size, "device": str(trainer.device),
        "batch_agent_steps": trainer.batch, "updates": len(timed),
        "agent_steps_per_s": float(np.median([r["agent_steps_per_s"] for r in timed])),
        "env_share": float(np.mean([r["env_share"] for r in timed])),
        "focal_live_share": float(np.mean([r["focal_live_share"] for r in timed])),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>20}  {value:,.3f}" if isinstance(value, float) else f"{key:>20}  {value}")
    return 0


if __name__ == "__main__":
    run(main, "python -m baselines.bench")
