"""Which open cases belong to which known person: calibrated attribution.

For every open case (status `open`, no current link) in the window, the eligible
persons (the top list and anyone with at least `min_cases` linked cases) are
ranked by the probability that they did it, with the probability that none of
them did. Everything is a **hypothesis** for an analyst to judge, never a link.

Method (documented in docs/linkage.md), one module per step:

1. Candidate pre-selection (`candidates.select_candidates`): the persons nearest
   in space-time and in space, about 16 per case (12 + 8, merged), less anyone
   in remand, prison or treatment for the whole window of a case that needs
   presence (custody is an alibi; an arrest or partial overlap is evidence).
2. Case-person evidence (`person_evidence.case_person_features`), including a
   cross-fitted case-case `PairModel` (`pair_model`) on each person's most
   similar known cases. Context and rows: `attribution_context`.
3. Stage 1 (`attribution_model`): gradient boosting on (case, candidate) rows,
   trained on *pseudo-open* solved cases: a solved case's own link is hidden and
   it is attributed like an open case (leave-one-out evidence). Held-out scores
   feed:
4. Stage 2 (`attribution_calibration.ChoiceCalibrator`): a conditional-logit over
   the candidates plus "none" - P(k) = exp(a z_k + c) / (1 + sum_j exp(a z_j + c))
   - fitted by maximum likelihood, so the candidates and "none" form one
   calibrated distribution.
5. Open cases differ from solved ones in how often a candidate did them (repeat
   offenders are caught less often). The share of "none" among open cases is
   re-estimated by EM (Saerens, Latinne & Decaestecker 2002, label-shift
   adjustment), which changes only the prior, not the ranking.

The baselines (`attribution_baselines`) run on the same candidate rows and get the
same stage-2 calibration, so they differ only in their evidence. Results:
`attribution_results`; scores against the truth: `attribution_evaluation`. This
module runs the steps (`attribute`; open cases scored by `attribution_scoring`) and
keeps what later nights reuse (`Fitted`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import polars as pl

from gjenganger.analytics import attribution_reuse as ar
from gjenganger.analytics.attribution_baselines import baseline_scorers
from gjenganger.analytics.attribution_calibration import Recalibrated, Recalibration
from gjenganger.analytics.attribution_context import (
    Context,
    build_context,
    build_rows,
    full_evidence,
    sample_by_hash,
)
from gjenganger.analytics.attribution_model import (
    AttributionModel,
    fit_model,
    shift_weights,
)
from gjenganger.analytics.attribution_results import (
    HYPOTHESIS as HYPOTHESIS,  # the label of every hypothesis row, re-exported
)
from gjenganger.analytics.attribution_results import Attribution, empty_frames
from gjenganger.analytics.attribution_scoring import (
    ChunkScorer,
    collect_chunks,
    score_in_chunks,
)
from gjenganger.analytics.candidates import candidate_index
from gjenganger.analytics.pair_features import CaseArrays
from gjenganger.analytics.pair_model import (
    CrossFitPairModels,
    fit_crossfit_pair_models,
    fold_of,
    one_openmp_thread,
)

#: v3: custody is an alibi (`linkage.in_custody_throughout`): the candidate sets
#: change, so stored pair models and evidence rows of v2 are not reused
#: v5: stage 1 also reads the activity density against the case's other
#: candidates (`attribution_model.RELATIONAL`) and its trees are at most four
#: deep (`attribution_model.stage1_classifier`): stored stage-1 models of v4
#: are not reused
MODEL_VERSION = "attribution-hgb-choice-v5"
METHODS = ("model", "nearest_case", "porter_nb")


# ------------------------------------------------------------------ run state
def links_hash(links: pl.DataFrame, incident_ids=None) -> np.ndarray:
    """Sorted unique 64-bit hashes of the (incident_id, person_id) links known
    (the store's frame, not the attribution window's: a link leaving the window
    is not retracted), or of the links of `incident_ids` only."""
    pairs = links.select("incident_id", "person_id")
    if incident_ids is not None:
        pairs = pairs.filter(
            pl.col("incident_id").is_in(pl.Series(incident_ids).implode())
        )
    if pairs.height == 0:
        return np.zeros(0, np.uint64)
    return np.unique(pairs.hash_rows(seed=17).to_numpy())


@dataclass
class Fitted:
    """The cross-fitted case-case pair models and the stage-1 model trained with
    them, which later nights may reuse.

    The pair models feed the stored evidence rows (max / top-3 pair log-odds), so
    keeping them fixed keeps those rows valid. The stage-1 model and calibrator
    are kept with them (`stage1`, before any recalibration) while every link that
    labelled one of their training cases still stands (`stage1_links`,
    `links_hash`): a retracted one trains them again that night, so it leaves the
    training set at once. (A retracted link changes its person's evidence rows
    that night through the fingerprints; its weight in the pair models lasts
    until they are trained again, at most 7 days later,
    `attribution_state.RETRAIN_DAYS`.)
    """

    pairs: CrossFitPairModels
    as_of: date
    window_days: int
    seed: int
    stage1: AttributionModel | None = None  # None: pickled before v4's reuse
    stage1_links: np.ndarray | None = None  # sorted hashes of the links it knew
    stage1_as_of: date | None = None  # the night it was trained

    def stage1_for(self, links: pl.DataFrame) -> AttributionModel | None:
        """The kept stage-1 model if every link that labelled its training cases
        is still among `links` (tonight's, as the store knows them), else None."""
        if self.stage1 is None or self.stage1_links is None:
            return None
        kept = np.isin(self.stage1_links, links_hash(links), assume_unique=True)
        return self.stage1 if kept.all() else None

    def pair_logit_for(self, cases: CaseArrays):
        """The cross-fitted pair models with tonight's case order (halves by id)."""
        from dataclasses import replace

        return replace(self.pairs, fold=fold_of(cases.incident_id, self.seed)).logit


@dataclass
class Previous:
    """Last night's state: the pair models, the evidence rows, fingerprints."""

    fitted: Fitted
    evidence: pl.DataFrame  # attribution_reuse.evidence_frame rows
    fingerprints: ar.Fingerprints


@dataclass
class AttributionRun:
    """The result of one attribution run: per method, plus what series need."""

    results: dict[str, Attribution]
    ctx: Context
    pair_logit: object | None  # (X, q_case_indices) -> log-odds, None if no model
    candidate_recall: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    fitted: Fitted | None = None
    # with keep_evidence: every open-case row's evidence ("full"), or only the rows
    # computed tonight ("reuse": the stored rows of `dirty` persons and cases go)
    evidence: pl.DataFrame | None = None
    fingerprints: ar.Fingerprints | None = None
    mode: str = "full"  # "full": pair models trained tonight; "reuse": kept
    dirty: tuple[set[str], set[str]] | None = None  # (persons, cases) changed
    stage1_trained: bool = True  # False: the stage-1 model kept in `fitted`
    # with record_sample: the recorded cases' raw distribution ("record")
    record: Attribution | None = None

    @property
    def model(self) -> Attribution:
        """The model's attribution (the baselines are in `results` too)."""
        return self.results["model"]


# ------------------------------------------------------------------ main entry
@one_openmp_thread
def attribute(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    custody: pl.DataFrame | None,
    as_of: date,
    *,
    window_days: int = 365,
    eligible_ids: list[str] | None = None,
    baselines: bool = False,
    covariate_shift: bool = True,
    porter_linkage: str = "average",
    chunk_cases: int = 10_000,
    max_train_cases: int = 8000,
    seed: int = 0,
    why: bool = True,
    previous: Previous | None = None,
    keep_evidence: bool = False,
    workers: int = 2,
    keep_ranks: int | None = None,
    evidence_sink=None,
    progress=None,
    recalibration: Recalibration | None = None,
    max_open_cases: int | None = None,
    record_sample: int | None = None,
) -> AttributionRun:
    """Attribute every open case in the window (`AttributionRun.results["model"]`).

    `incidents`, `links`, `custody` are the store frames as known on `as_of`.
    With `baselines`, the nearest-case and Porter naive-Bayes methods are run on
    the same candidates and calibrated the same way. With `previous` (last night's
    `Previous`), its pair models are reused and so are the evidence rows of
    unchanged cases and persons (`attribution_reuse`), and so is the stage-1
    model and calibrator kept with the pair models unless a link it was trained
    on has been retracted since (`Fitted.stage1_for`); with `baselines` it is
    always trained. `keep_evidence` returns
    every row's evidence and the fingerprints for the next night. Open cases are
    scored in chunks on `workers` threads; the result does not depend on it.
    `keep_ranks` keeps only each case's best candidates in the result (memory at
    national scale); the default keeps every scored candidate (evaluation).
    `evidence_sink(frame)`, if given, receives the evidence chunk by chunk (from
    the worker threads) instead of `AttributionRun.evidence`. `progress(message)`,
    if given, hears of each stage and of every tenth of the open cases scored.
    `recalibration` (the nightly back-test's `Recalibration`) is applied after
    stage 2, so p means what the back-test showed for cases that were open.
    `max_open_cases` scores a fixed sample of that many open cases at most
    (`attribution_context.sample_by_hash`; the back-test at national scale).
    `record_sample` also returns, in `AttributionRun.record`, every candidate of
    the same fixed sample of at most that many open cases with the model's raw
    p (not recalibrated): what the nightly records on a back-test date, so the
    back-test later checks the p the night gave instead of scoring it anew.
    """

    def say(message: str) -> None:
        if progress is not None:
            progress(message)

    t0 = time.perf_counter()
    ctx = build_context(
        incidents,
        links,
        custody,
        as_of,
        eligible_ids=eligible_ids,
        window_days=window_days,
        max_train_cases=max_train_cases,
        seed=seed,
        max_open_cases=max_open_cases,
    )
    methods = METHODS if baselines else METHODS[:1]
    if len(ctx.eligible) == 0 or len(ctx.train_idx) < 20:
        cand, cases = empty_frames(ctx)
        return AttributionRun(
            {m: Attribution(m, cand, cases) for m in methods}, ctx, None
        )
    timings: dict[str, float] = {}
    pairs = _pair_models(ctx, custody, previous, keep_evidence, window_days, seed)
    timings[pairs.timing] = time.perf_counter() - t0
    say(pairs.message)
    fitted = pairs.fitted
    model = None if baselines else fitted.stage1_for(links)
    stage1_trained = model is None
    scorers = {}
    if stage1_trained:  # and kept with the pair models
        train = build_rows(ctx, ctx.train_idx, pairs.logit, training=True)
        wc = (
            shift_weights(ctx.cases, train.q, ctx.open_idx, seed)
            if covariate_shift
            else None
        )
        model = fit_model(train, seed=seed, case_weight=wc)
        fitted = replace(
            fitted,
            stage1=model,
            stage1_links=links_hash(links, ctx.cases.incident_id[train.q]),
            stage1_as_of=ctx.as_of,
        )
        say(f"ranking model trained on {len(train.q):,} solved cases")
        if baselines:
            scorers = baseline_scorers(
                ctx,
                replace(train, ev=full_evidence(ctx, train, pairs.logit)),
                wc,
                seed,
                porter_linkage,
            )
    else:
        say(
            f"ranking model of {fitted.stage1_as_of} reused "
            f"({model.n_train_cases:,} solved cases; no link retracted since)"
        )
    if recalibration is not None:  # the kept model stays as it was trained
        model = replace(model, calibrator=Recalibrated(model.calibrator, recalibration))
    timings["train_s"] = time.perf_counter() - t0
    picked = None
    if record_sample is not None:
        picked = np.zeros(len(ctx.open_idx), bool)
        picked[sample_by_hash(ctx.cases.id_hash[ctx.open_idx], record_sample)] = True
    scoring = ChunkScorer(
        ctx,
        pairs.logit,
        model,
        scorers,
        {"index": candidate_index(ctx.cases, ctx.person_cases, ctx.eligible)},
        pairs.reuse,
        why,
        keep_ranks,
        keep_evidence,
        evidence_sink,
        chunk_cases,
        picked,
    )
    done = score_in_chunks(scoring, workers, say)
    names = ("model", *scorers, *(("record",) if picked is not None else ()))
    out, kept, base_s = collect_chunks(ctx, done, names, evidence_sink)
    record = out.pop("record", None)
    timings["attribute_s"] = time.perf_counter() - t0 - base_s
    for k in ("rows_reused", "rows_computed"):
        if k in ctx.timings:
            timings[k] = ctx.timings[k]
    if baselines:
        timings["baselines_s"] = time.perf_counter() - t0
    evidence = pl.concat(kept) if kept else None
    return AttributionRun(
        out,
        ctx,
        pairs.logit,
        model.candidate_recall,
        timings,
        fitted,
        evidence,
        pairs.fingerprints,
        "reuse" if previous is not None else "full",
        pairs.dirty,
        stage1_trained,
        record,
    )


@dataclass
class _PairModels:
    """Tonight's pair models: trained, or last night's with its reusable rows."""

    logit: object  # (X, q_case_indices) -> log-odds
    fitted: Fitted
    fingerprints: ar.Fingerprints | None  # tonight's (for reuse or the next night)
    reuse: ar.Reuse | None  # last night's evidence rows, indexed
    dirty: tuple[set[str], set[str]] | None  # (persons, cases) changed since
    timing: str  # the key of the time taken in `AttributionRun.timings`
    message: str  # what the progress hears


def _pair_models(
    ctx: Context,
    custody: pl.DataFrame | None,
    previous: Previous | None,
    keep_evidence: bool,
    window_days: int,
    seed: int,
) -> _PairModels:
    """Last night's pair models and evidence rows (`previous`), with the persons
    and cases changed since (by tonight's fingerprints, computed when reusing or
    `keep_evidence`), or new cross-fitted ones."""
    fp = None
    if keep_evidence or previous is not None:
        fp = ar.fingerprints(
            ctx.cases.incident_id,
            ar.case_hashes(ctx.incidents),
            ctx.links,
            custody,
            ctx.eligible,
            ctx.open_idx,
        )
    if previous is not None:
        fitted = previous.fitted
        pair_logit = fitted.pair_logit_for(ctx.cases)
        before = previous.fingerprints
        dirty = (
            ar.changed(fp.persons, before.persons, "person_id"),
            ar.changed(fp.cases, before.cases, "incident_id"),
        )
        reuse = ar.reuse_index(
            previous.evidence, ctx.cases.incident_id, ctx.links.persons, *dirty
        )
        previous.evidence = previous.evidence.clear()  # indexed: free the frame
        message = (
            f"{len(ctx.open_idx):,} open cases; pair models reused, "
            f"{len(dirty[0]):,} persons and {len(dirty[1]):,} cases changed"
        )
        return _PairModels(
            pair_logit, fitted, fp, reuse, dirty, "reuse_index_s", message
        )
    pairs = fit_crossfit_pair_models(ctx.cases, ctx.links, seed=seed)
    fitted = Fitted(pairs, ctx.as_of, window_days, seed)
    message = f"{len(ctx.open_idx):,} open cases; pair models trained"
    return _PairModels(pairs.logit, fitted, fp, None, None, "pair_model_s", message)
