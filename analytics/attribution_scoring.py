"""Scoring the open cases of an attribution run, chunk by chunk on threads.

A chunk's cases get their candidates and evidence (`build_rows`), the stage-1
scores and the calibrated distribution over candidates plus "none", and the same
for every baseline. The distribution of a case depends on that case's candidates
only, so the result does not depend on the chunk size or the number of threads.
With a `record` mask, the chunk's recorded cases also get the model's raw
distribution (before the back-test's recalibration) under the name "record": what
a later back-test checks (`attribution.attribute`'s `record_sample`).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from gjenganger.analytics import attribution_reuse as ar
from gjenganger.analytics.attribution_calibration import Recalibrated
from gjenganger.analytics.attribution_context import (
    Context,
    Rows,
    build_rows,
    full_evidence,
)
from gjenganger.analytics.attribution_model import AttributionModel
from gjenganger.analytics.attribution_results import (
    Attribution,
    empty_frames,
    ranked_attribution,
)


@dataclass
class ChunkScorer:
    """What scoring a chunk of open cases needs, shared by the worker threads.

    The calibrated distribution of a case depends on that case's candidates
    only, so chunks are independent: memory stays flat at any scale and chunks
    run on threads (NumPy, SciPy and scikit-learn release the GIL).
    """

    ctx: Context
    pair_logit: object
    model: AttributionModel
    scorers: dict[str, tuple]  # baseline name -> (score function, calibrator)
    trees: dict  # the candidate search trees (`candidates.candidate_index`)
    reuse: ar.Reuse | None
    why: bool
    keep_ranks: int | None
    keep_evidence: bool
    evidence_sink: object
    chunk_cases: int
    record: np.ndarray | None = None  # per open case: its raw scores are recorded

    def chunk(self, start: int) -> tuple[dict, pl.DataFrame | None, float]:
        """Every method's attribution of the open cases from `start` on (one
        chunk), the chunk's evidence rows (`keep_evidence`), and the seconds the
        baselines took."""
        ctx = self.ctx
        q = ctx.open_idx[start : start + self.chunk_cases]
        rows = build_rows(
            ctx, q, self.pair_logit, training=False, trees=self.trees, reuse=self.reuse
        )
        ev = self._evidence(q, rows) if self.keep_evidence else None
        z = self.model.scores(rows)
        p, pn = self.model.calibrator.probs(z, rows.row_case, len(q))
        why = None
        if self.why:

            def why(sel: np.ndarray):
                return full_evidence(ctx, rows, self.pair_logit, sel)

        res = {"model": ranked_attribution(ctx, rows, p, pn, "model", None, why)}
        if self.record is not None:
            picked = self.record[start : start + self.chunk_cases]
            if picked.any():
                res["record"] = self._recorded(rows, z, picked)
        if self.keep_ranks is not None:  # the rest of the distribution is not kept
            a = res["model"]
            res["model"] = Attribution(
                a.method,
                a.candidates.filter(pl.col("rank") <= self.keep_ranks),
                a.cases,
                a.none_prior,
            )
        tb = time.perf_counter()
        if self.scorers:  # the simple baselines rank on every known case
            rows = replace(rows, ev=full_evidence(ctx, rows, self.pair_logit))
        for name, (fn, bc) in self.scorers.items():
            bp, bpn = bc.probs(fn(rows, None), rows.row_case, len(q))
            res[name] = ranked_attribution(ctx, rows, bp, bpn, name, None, why=None)
        return res, ev, time.perf_counter() - tb

    def _recorded(self, rows: Rows, z: np.ndarray, picked: np.ndarray) -> Attribution:
        """Every candidate of the `picked` cases of a chunk with the model's raw p
        (its own calibrator, not the back-test's recalibration, which wraps it)."""
        cal = self.model.calibrator
        raw = cal.inner if isinstance(cal, Recalibrated) else cal
        keep = picked[rows.row_case]
        position = np.cumsum(picked) - 1  # chunk case -> position among picked
        sub = Rows(
            rows.q[picked],
            position[rows.row_case[keep]],
            rows.row_person[keep],
            ar.take(rows.ev, keep),
        )
        p, pn = raw.probs(z[keep], sub.row_case, len(sub.q))
        return ranked_attribution(self.ctx, sub, p, pn, "record", None, why=None)

    def _evidence(self, q: np.ndarray, rows: Rows) -> pl.DataFrame:
        """The chunk's evidence rows to store (reusing: only those computed
        tonight are new), handed to the sink if there is one."""
        sel = (
            np.arange(len(rows.row_case))
            if rows.fresh is None
            else np.flatnonzero(rows.fresh)
        )
        ev = ar.evidence_frame(
            self.ctx.cases.incident_id,
            self.ctx.links.persons,
            q[rows.row_case[sel]],
            rows.row_person[sel],
            ar.take(rows.ev, sel),
        )
        if self.evidence_sink is not None:  # handed over chunk by chunk: flat memory
            self.evidence_sink(ev)
        return ev


def score_in_chunks(scoring: ChunkScorer, workers: int, say) -> list[tuple]:
    """`scoring.chunk` over every chunk of open cases on `workers` threads, in
    chunk order; `say` hears of every tenth of the chunks done."""
    n_open = len(scoring.ctx.open_idx)
    starts = range(0, n_open, scoring.chunk_cases)
    tally = {"done": 0, "told": 0}
    tally_lock = threading.Lock()

    def counted(start: int):
        out = scoring.chunk(start)
        with tally_lock:  # every tenth of the chunks, from whichever thread
            tally["done"] += 1
            tenth = tally["done"] * 10 // len(starts)
            if tenth > tally["told"]:
                tally["told"] = tenth
                n = min(tally["done"] * scoring.chunk_cases, n_open)
                say(f"scored {n:,} of {n_open:,} open cases")
        return out

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(counted, starts))


def collect_chunks(
    ctx: Context, done: list[tuple], names: tuple[str, ...], evidence_sink
) -> tuple[dict[str, Attribution], list[pl.DataFrame], float]:
    """One attribution per method from the chunks' results, the evidence frames
    kept (none when they went to `evidence_sink`), and the baselines' seconds."""
    parts: dict[str, list[Attribution]] = {m: [] for m in names}
    kept: list[pl.DataFrame] = []
    base_s = 0.0
    for res, ev, seconds in done:
        for name, a in res.items():
            parts[name].append(a)
        if ev is not None and evidence_sink is None:
            kept.append(ev)
        base_s += seconds
    out: dict[str, Attribution] = {}
    for name, lst in parts.items():
        if lst:
            out[name] = Attribution(
                name,
                pl.concat([a.candidates for a in lst], how="diagonal_relaxed"),
                pl.concat([a.cases for a in lst]),
            )
        else:
            cand, cases = empty_frames(ctx)
            out[name] = Attribution(name, cand, cases)
    return out, kept, base_s
