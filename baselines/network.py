"""The baseline torch policy network: Meta MMO's architecture (rules.md §3) over metammo's
observation layout.

One flat uint8 observation row per agent is unflattened with the env's own
:class:`~metammo.observation.Layout` (zero-copy views of the tensor) and encoded part by part:

==============  ==========================================================================
part            encoder
==============  ==========================================================================
tiles           material embedding + fog/agent/NPC planes, a 3x3 stride-3 patch conv
                (15x15 -> 5x5), a 3x3 conv (-> 3x3), a linear layer
entities        per-entity MLP (scaled features + kind and style one-hot) -> embeddings;
                max- and mean-pooled over present rows; the embeddings also serve the
                pointer heads (attack target, give target)
self            linear
game            system bits, the game identity's 64 bits, roles, difficulty, task embedding
                -> linear
inventory       per-slot MLP, max-pooled (full config)
profile/market  linear (full config)
==============  ==========================================================================

The concatenation goes through a linear layer into an LSTM cell; action heads read its output.
Every head is a categorical distribution whose forbidden choices (the observation's action
masks) get a logit of ``-1e9``. Pointer heads score ``none`` with a learned linear unit and
each entity row by a scaled dot product of a query with that row's embedding.

Integer features are scaled by ``log1p(x) / log(256)``: small counts and levels stay apart,
large values stay bounded, and no per-feature table has to follow the layout.

Sizes (:data:`SIZES`): ``small`` (hidden 64, trains on 2 CPU cores) and ``large`` (hidden 256,
Meta MMO's width, for GPUs).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from metammo.actions import head_sizes
from metammo.config import Shape
from metammo.constants import NUM_MATERIALS, NUM_STYLES, Kind
from metammo.observation import (
    GAME_ID_BYTES,
    ITEM_MASKS,
    EntityFeature,
    GameFeature,
    Layout,
    SelfFeature,
    TileChannel,
)

#: Architecture name written into checkpoints (see :mod:`baselines.checkpoint`).
ARCHITECTURE = "metammo_lstm"

#: Keyword arguments of :class:`PolicyNetwork` per named size.
SIZES: dict[str, dict[str, int]] = {
    "small": {"hidden": 64, "tile_channels": 16, "entity_dim": 32},
    "large": {"hidden": 256, "tile_channels": 64, "entity_dim": 128},
}

_MASKED = -1e9
_LOG256 = math.log(256.0)
_NUM_KINDS = len(Kind)


def _scale(x: torch.Tensor) -> torch.Tensor:
    return torch.log1p(x.float()) / _LOG256


def _tile_planes(tiles: torch.Tensor) -> torch.Tensor:
    """``(B, 4, S, S)`` uint8 tile crop -> ``(B, NUM_MATERIALS + 3, S, S)`` float32 in channels-last
    memory order (mkldnn's fast path): one-hot material, then the scaled fog, agent and NPC planes."""
    b, _, side, _ = tiles.shape
    x = torch.zeros(b, side, side, NUM_MATERIALS + 3, device=tiles.device)
    x.scatter_(-1, tiles[:, TileChannel.MATERIAL].long().unsqueeze(-1), 1.0)
    x[..., NUM_MATERIALS:] = _scale(tiles[:, 1:].permute(0, 2, 3, 1))
    return x.permute(0, 3, 1, 2)


def _mlp(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, outputs), nn.ReLU(), nn.Linear(outputs, outputs), nn.ReLU())


class PolicyNetwork(nn.Module):
    """Actor-critic with an LSTM core for one observation :class:`~metammo.config.Shape`.

    Args:
        shape: the env's :class:`~metammo.config.Shape` as a dict (the observation layout and
            the action heads follow from it); ``vision`` at least 4.
        hidden: width of the core (LSTM state) and of most layers.
        tile_channels: channels of the tile convolutions.
        entity_dim: width of the entity embeddings.

    Shapes: ``B`` agents (rows), ``T`` time steps, ``H`` action heads.
    """

    def __init__(self, shape: dict[str, Any], hidden: int = 64, tile_channels: int = 16, entity_dim: int = 32):
        super().__init__()
        self.shape = Shape(**shape)
        if self.shape.vision < 4:
            raise ValueError(f"PolicyNetwork needs vision >= 4 (a 9x9 crop at least), got {self.shape.vision}")
        self.layout = Layout(self.shape)
        self.hidden = hidden
        self.head_sizes = [int(s) for s in head_sizes(self.shape)]
        inventory = self.inventory = self.shape.inventory
        vision = self.shape.vision
        parts = self.layout.parts
        c = tile_channels
        self.tile_conv = nn.Sequential(
            nn.Conv2d(NUM_MATERIALS + len(TileChannel) - 1, c, 3, stride=3), nn.ReLU(), nn.Conv2d(c, 2 * c, 3), nn.ReLU(), nn.Flatten(),
        )
        side = (2 * vision + 1) // 3 - 2
        self.tile_out = nn.Linear(2 * c * side * side, hidden)
        entity_in = parts["entities"][1][1] + _NUM_KINDS + NUM_STYLES
        self.entity_mlp = _mlp(entity_in, entity_dim)
        self.self_in = nn.Linear(parts["self"][1][0], hidden)
        game_in = GameFeature.GAME + 8 * GAME_ID_BYTES + (parts["game"][1][0] - GameFeature.TEAM_GAME)
        self.game_in = nn.Linear(game_in, hidden)
        features = 3 * hidden + 2 * entity_dim
        if inventory:
            self.item_mlp = _mlp(parts["inventory"][1][1], entity_dim)
            self.profile_in = nn.Linear(parts["profile"][1][0], hidden)
            market = parts["market"][1]
            self.market_in = nn.Linear(market[0] * market[1] * market[2], hidden)
            features += 2 * hidden + entity_dim
        self.project = nn.Sequential(nn.Linear(features, hidden), nn.ReLU())
        self.lstm = nn.LSTMCell(hidden, hidden)
        self.value = nn.Linear(hidden, 1)
        # Plain heads: one linear layer each; pointer heads: a "none" logit and a query.
        self.pointer = {2} | ({8} if inventory else set())
        self.heads = nn.ModuleList(
            nn.Linear(hidden, 1 + entity_dim) if h in self.pointer else nn.Linear(hidden, size)
            for h, size in enumerate(self.head_sizes)
        )
        self.masks = ["mask_move", "mask_style", "mask_target", "mask_comm"] + (list(ITEM_MASKS) if inventory else [])
        with torch.no_grad():  # small initial logits and values: a near-uniform start
            for head in self.heads:
                head.weight.mul_(0.01)
                head.bias.zero_()
            self.value.weight.mul_(0.1)

    @property
    def kwargs(self) -> dict[str, Any]:
        """The constructor's arguments (what a checkpoint stores to rebuild the network)."""
        return {
            "shape": dataclasses.asdict(self.shape), "hidden": self.hidden, "tile_channels": self.tile_conv[0].out_channels,
            "entity_dim": self.entity_mlp[0].out_features,
        }

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """Zero LSTM state ``(h, c)``, each ``(batch, hidden)`` float32."""
        zeros = torch.zeros(batch, self.hidden, device=device)
        return zeros, zeros.clone()

    def encode(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``obs`` ``(B, layout.size)`` uint8 -> features ``(B, hidden)`` (before the LSTM)
        and entity embeddings ``(B, obs_entities, entity_dim)``."""
        v = self.layout.views(obs)
        tiles = v["tiles"]
        x = self.tile_out(self.tile_conv(_tile_planes(tiles)))

        ents = v["entities"]
        rows, slots = ents.shape[:2]
        present = ents[..., EntityFeature.PRESENT] > 0
        index = present.view(-1).nonzero().squeeze(1)  # the MLP runs on present rows only (about half)
        some = ents.reshape(rows * slots, ents.shape[-1])[index]
        kind = F.one_hot(some[:, EntityFeature.KIND].long().clamp_max(_NUM_KINDS - 1), _NUM_KINDS)
        style = F.one_hot(some[:, EntityFeature.STYLE].long().clamp_max(NUM_STYLES - 1), NUM_STYLES)
        e = self.entity_mlp(torch.cat([_scale(some), kind.float(), style.float()], -1))
        e = e.new_zeros(rows * slots, e.shape[-1]).index_copy(0, index, e).view(rows, slots, e.shape[-1])  # absent: 0
        count = present.sum(1, keepdim=True).clamp_min(1).float()
        pooled = [e.max(1).values, e.sum(1) / count]

        game = v["game"]
        bits = (game[:, GameFeature.GAME:GameFeature.TEAM_GAME, None]
                >> torch.arange(8, device=obs.device, dtype=torch.uint8)) & 1
        g = torch.cat([game[:, :GameFeature.GAME].float(), bits.flatten(1).float(),
                       _scale(game[:, GameFeature.TEAM_GAME:])], -1)
        feats = [x, self.self_in(_scale(v["self"])), self.game_in(g), *pooled]
        if self.inventory:
            items = self.item_mlp(_scale(v["inventory"]))
            feats += [items.max(1).values, self.profile_in(_scale(v["profile"])),
                      self.market_in(_scale(v["market"].flatten(1)))]
        return self.project(F.relu(torch.cat(feats, -1))), e

    def logits(self, core: torch.Tensor, entities: torch.Tensor, obs: torch.Tensor) -> list[torch.Tensor]:
        """Masked logits per head: a list of ``(B, head_size)`` float32."""
        out = []
        scale = 1.0 / math.sqrt(entities.shape[-1])
        for h, head in enumerate(self.heads):
            y = head(core)
            if h in self.pointer:
                y = torch.cat([y[:, :1], torch.einsum("bd,bkd->bk", y[:, 1:], entities) * scale], -1)
            mask = self.layout.view(obs, self.masks[h]).bool()
            out.append(y.masked_fill(~mask, _MASKED))
        return out

    def _alive(self, obs: torch.Tensor) -> torch.Tensor:
        """``(..., 1)`` float: 1 where the observing agent is alive."""
        return (self.layout.view(obs, "self")[..., SelfFeature.ALIVE] > 0).float().unsqueeze(-1)

    def _keep(self, alive: torch.Tensor, starts: torch.Tensor | None) -> torch.Tensor:
        """``(..., 1)`` float: 0 where the LSTM state is zeroed before this step (the agent is
        dead, or ``starts`` says an episode or a life begins here)."""
        return alive if starts is None else alive * (~starts).float().unsqueeze(-1)

    def step(self, obs: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], starts: torch.Tensor | None = None
             ) -> tuple[list[torch.Tensor], torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One tick: ``obs`` ``(B, size)`` uint8, ``state`` ``(h, c)`` ``(B, hidden)``, ``starts``
        ``(B,)`` bool (optional, see :meth:`unroll`) -> (logits per head, value ``(B,)``, new
        state). A dead agent carries no state (it goes in and comes out zero), so a revived
        agent starts afresh, and a trainer may skip dead rows, giving them a zero state."""
        alive = self._alive(obs)
        keep = self._keep(alive, starts)
        x, entities = self.encode(obs)
        h, c = self.lstm(x, (state[0] * keep, state[1] * keep))
        return self.logits(h, entities, obs), self.value(h).squeeze(-1), (h * alive, c * alive)

    def unroll(self, obs: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], starts: torch.Tensor
               ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """BPTT over a segment, exactly as repeated :meth:`step` calls: ``obs`` ``(T, B, size)``
        uint8, initial ``state``, ``starts`` ``(T, B)`` bool (the state is zeroed before a step
        that starts an episode or a life) -> (logits per head, each ``(T * B, size)``; values
        ``(T * B,)``)."""
        steps, batch = obs.shape[:2]
        flat = obs.reshape(steps * batch, obs.shape[-1])
        x, entities = self.encode(flat)
        x = x.view(steps, batch, -1)
        h, c = state
        alive = self._alive(obs)
        keep = self._keep(alive, starts)
        outs = []
        for t in range(steps):
            h, c = self.lstm(x[t], (h * keep[t], c * keep[t]))
            outs.append(h)
            h, c = h * alive[t], c * alive[t]
        core = torch.cat(outs)
        return self.logits(core, entities, flat), self.value(core).squeeze(-1)


def sample(logits: list[torch.Tensor], generator: torch.Generator | None = None
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample every head (``generator`` seeds it): -> actions ``(B, H)`` int64 and their summed log-probability ``(B,)``."""
    actions, logp = [], 0.0
    for y in logits:
        lp = F.log_softmax(y, -1)
        cdf = lp.exp().cumsum(-1)  # inverse-CDF sampling; a forbidden choice has no mass
        u = torch.rand(y.shape[0], 1, generator=generator, device=y.device) * cdf[:, -1:]
        a = torch.searchsorted(cdf, u.clamp_min(1e-12)).clamp_max(y.shape[1] - 1)
        actions.append(a)
        logp = logp + lp.gather(1, a).squeeze(1)
    return torch.cat(actions, 1), logp


def evaluate_actions(logits: list[torch.Tensor], actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probability ``(B,)`` of ``actions`` ``(B, H)`` and summed entropy ``(B,)``."""
    logp, entropy = 0.0, 0.0
    for h, y in enumerate(logits):
        lp = F.log_softmax(y, -1)
        logp = logp + lp.gather(1, actions[:, h:h + 1]).squeeze(1)
        entropy = entropy - (lp.exp() * lp).sum(-1)
    return logp, entropy
