"""Synthetic police exports calibrated to the report: population, use periods, modus,
catches, batches in the export contract and ground truth. See docs/synthetic-data.md.
"""

from gjenganger.synth.config import SynthConfig
from gjenganger.synth.generator import generate, simulate

__all__ = ["SynthConfig", "generate", "simulate"]
