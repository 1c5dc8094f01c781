"""What a generator run is asked for: the command-line options as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gjenganger.synth import presets
from gjenganger.synth.worlds import BASELINE, World

FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class SynthConfig:
    """One generator run.

    `scale` multiplies every population group (1 = the Trondheim region, about
    30,000 incidents a year); `catch_rate_factor` multiplies every catch (solve)
    probability; `batch_days` groups that many days into one batch. `world` holds
    every open assumption of the report (`worlds.World`); `world_name` is the preset
    it started from (recorded in `truth/world.json`).
    """

    seed: int
    start: date
    days: int
    scale: float = 1.0
    catch_rate_factor: float = 1.0
    batch_days: int = 1
    fmt: str = "csv"
    world: World = BASELINE
    world_name: str = "baseline"

    def problems(self) -> list[str]:
        """What is wrong with the options, as one-line messages (empty if fine)."""
        out = []
        if self.days < 1:
            out.append(f"--days must be at least 1 (got {self.days})")
        if self.days > 3660:
            out.append(f"--days must be at most 3660 (got {self.days})")
        if not 0.01 <= self.scale <= 100:
            out.append(f"--scale must be between 0.01 and 100 (got {self.scale})")
        if not 0 <= self.catch_rate_factor <= 10:
            got = self.catch_rate_factor
            out.append(f"--catch-rate-factor must be between 0 and 10 (got {got})")
        if self.batch_days < 1:
            out.append(f"--batch-days must be at least 1 (got {self.batch_days})")
        if self.fmt not in FORMATS:
            out.append(f"--format must be one of {', '.join(FORMATS)} (got {self.fmt})")
        if self.seed < 0:
            out.append(f"--seed must be >= 0 (got {self.seed})")
        if self.world_name not in presets.PRESETS:
            out.append(
                f"unknown world {self.world_name!r}; one of: "
                + ", ".join(presets.names())
            )
        return out + self.world.problems()
