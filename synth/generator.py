"""One generator run, start to finish: population -> behaviour -> police -> files.

Every step draws from its own child of `numpy.random.SeedSequence(seed)`, so the same
options give byte-identical output and a change in one step does not reshuffle the
others. The run's `World` (the report's open assumptions) goes to every step and is
recorded in `truth/world.json`.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from gjenganger.synth import (
    batches,
    behaviour,
    cards,
    crews,
    cycles,
    geography,
    ids,
    justice,
    modus,
    population,
    presets,
    truth,
    windows,
    writer,
)
from gjenganger.synth.clock import Clock
from gjenganger.synth.columns import Columns
from gjenganger.synth.config import SynthConfig

STEPS = (
    "population",
    "cycles",
    "behaviour",
    "cards",
    "crews",
    "justice",
    "export",
    "ids",
)


def _seq_lookup(gens: np.ndarray, seq: np.ndarray):
    """A function mapping gen numbers (sorted `gens`) to case numbers."""

    def seq_of(g: np.ndarray) -> np.ndarray:
        return seq[np.searchsorted(gens, g)]

    return seq_of


def _rngs(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per step, all children of the run's seed."""
    children = np.random.SeedSequence(seed).spawn(len(STEPS))
    return {
        step: np.random.default_rng(c) for step, c in zip(STEPS, children, strict=True)
    }


def _current_links(link: Columns, end: int) -> Columns:
    """The newest exported version of every link."""
    lk = link.take(link["updated"] < end)
    lk = lk.take(np.lexsort((lk["updated"], lk["person"], lk["gen"])))
    g, p = lk["gen"], lk["person"]
    last = (
        np.r_[(g[1:] != g[:-1]) | (p[1:] != p[:-1]), True]
        if lk.n
        else np.zeros(0, bool)
    )
    return lk.take(last)


def simulate(cfg: SynthConfig, log: Callable[[str], None] | None = None) -> dict:
    """Everything that happens and what the police learn, in memory."""
    say = log or (lambda _msg: None)
    rng = _rngs(cfg.seed)
    world = cfg.world
    geo = geography.load()
    clock = Clock(cfg.start, cfg.days)
    e_day = cards.episode_day(cfg.days)
    pop = population.build(rng["population"], geo, cfg.scale, cfg.days, world)
    say(
        f"population: {pop.n:,} persons ("
        + ", ".join(
            f"{g} {int((pop.group == i).sum()):,}"
            for i, g in enumerate(population.GROUPS)
        )
        + ")"
    )
    states = cycles.simulate(rng["cycles"], pop, cfg.days, e_day, world)
    rows = behaviour.generate(rng["behaviour"], geo, pop, states, clock, world)
    say(f"offences: {rows.n:,} drawn")
    new, tx, card_refs, merchants = cards.generate(
        rng["cards"], geo, pop, states, clock, rows, e_day, world
    )
    rows = Columns.concat(rows, new)
    scripted_theft = rows["scripted"] & (rows["template"] != modus.CARD_FRAUD)
    windows.time_windows(rng["cards"], rows, clock, only=scripted_theft, world=world)

    crew = crews.assign(rng["crews"], pop, states, rows)
    crews.recount(rows, crew)
    r = rng["justice"]
    spell_iv = justice.spell_custody(states, clock, rows, r, world)
    rows, crew = justice.drop_in_custody(rows, crew, spell_iv, pop, r)
    rows["caught"] = justice.catch(r, pop, rows, cfg.catch_rate_factor, world)
    rows["arrest"], arrest_iv = justice.arrests(r, rows, rows["caught"], e_day, world)
    rows, crew = justice.drop_in_custody(rows, crew, arrest_iv, pop, r)
    crews.recount(rows, crew)
    rows["solved_at"], rows["dropped_at"] = justice.outcomes(
        r, rows, rows["caught"], rows["arrest"], clock, world
    )
    link = justice.links(r, pop, rows, crew, rows["solved_at"], rows["arrest"], world)
    custody = justice.Intervals.build(
        np.r_[spell_iv.person, arrest_iv.person],
        np.r_[spell_iv.kind, arrest_iv.kind],
        np.r_[spell_iv.start, arrest_iv.start],
        np.r_[spell_iv.end, arrest_iv.end],
    )

    # what is exported: cases reported within the period
    rows = rows.take(rows["t_report"] < clock.end)
    crew = crew.take(np.isin(crew["gen"], rows["gen"]))
    link = link.take(np.isin(link["gen"], rows["gen"]))
    frauds = rows.take(rows["template"] == modus.CARD_FRAUD)
    tx = tx.take(np.isin(tx["episode"], frauds["card"]))
    return {
        "cfg": cfg,
        "geo": geo,
        "clock": clock,
        "pop": pop,
        "states": states,
        "rows": rows,
        "crew": crew,
        "link": link,
        "custody": custody,
        "tx": tx,
        "card_refs": card_refs,
        "merchants": merchants,
        "frauds": frauds,
        "e_day": e_day,
    }


def _number_transactions(frauds: Columns, tx: Columns) -> None:
    """Card transactions numbered in time order, arriving with the fraud case's
    report (`frauds` carries the case numbers `seq`)."""
    fpos = np.full(int(frauds["card"].max(initial=-1)) + 1, -1)
    fpos[frauds["card"]] = np.arange(frauds.n)
    fpos = fpos[tx["episode"]]
    tx["seq"] = frauds["seq"][fpos]
    tx["updated"] = frauds["t_report"][fpos]
    tx["tx_seq"] = np.empty(tx.n, dtype=np.int64)
    tx["tx_seq"][np.lexsort((tx["amount"], tx["episode"], tx["at"]))] = np.arange(
        1, tx.n + 1
    )


def _truth_frames(sim: dict, person_ids: pl.Series, seq_of) -> dict:
    """The truth tables of a simulated run (see `truth`)."""
    clock, pop, rows, tx = sim["clock"], sim["pop"], sim["rows"], sim["tx"]
    tx_sorted = tx.take(np.lexsort((tx["at"], tx["episode"])))
    current = _current_links(sim["link"], clock.end)
    linked_persons = current["person"][~current["retracted"]]
    return {
        "offenders": truth.offenders(sim["crew"], seq_of, person_ids),
        "phases": truth.phases(sim["states"], pop, person_ids, clock),
        "persons": truth.persons(pop, person_ids, sim["crew"], linked_persons),
        "episodes": truth.episodes(
            sim["frauds"], tx_sorted, sim["card_refs"], person_ids
        ),
        "incidents": truth.incidents(
            rows, pop, sim["states"], person_ids, seq_of, clock
        ),
    }


def generate(
    cfg: SynthConfig, out: Path, log: Callable[[str], None] | None = None
) -> dict:
    """Write `out/inbox/<batch_id>/` and `out/truth/`; return a summary."""
    t0 = time.monotonic()
    say = log or (lambda _msg: None)
    sim = simulate(cfg, log)
    clock, pop, rows, tx = sim["clock"], sim["pop"], sim["rows"], sim["tx"]
    rng = _rngs(cfg.seed)
    person_ids = pl.Series(
        "person_id", ids.pseudonyms(rng["ids"], pop.n, "P", 15), dtype=pl.String
    )

    rows["seq"] = batches.incident_seq(rows)
    seq_of = _seq_lookup(rows["gen"], rows["seq"])
    link = sim["link"]
    link["seq"] = seq_of(link["gen"])

    frauds = sim["frauds"]
    frauds["seq"] = seq_of(frauds["gen"])
    _number_transactions(frauds, tx)

    frames = {
        "incidents": batches.incidents(
            rng["export"], sim["geo"], clock, rows, cfg.batch_days
        ),
        "incident_persons": batches.links(clock, link, person_ids, cfg.batch_days),
        "card_transactions": batches.transactions(
            clock, tx, sim["card_refs"], sim["merchants"], cfg.batch_days
        ),
        "custody": batches.custody(clock, sim["custody"], person_ids, cfg.batch_days),
    }
    say("export: " + ", ".join(f"{k} {v.height:,} versions" for k, v in frames.items()))

    out = Path(out)
    for sub in ("inbox", "truth"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    written = writer.write_batches(
        out / "inbox", clock, cfg.batch_days, cfg.fmt, frames, say
    )

    truth_frames = _truth_frames(sim, person_ids, seq_of)
    truth_rows = writer.write_truth(out / "truth", truth_frames)
    world_record = presets.record(cfg.world_name, cfg.world)
    text = json.dumps(world_record, indent=2, ensure_ascii=False) + "\n"
    (out / "truth" / "world.json").write_text(text, encoding="utf-8")
    seconds = round(time.monotonic() - t0, 1)
    say(f"done in {seconds} s: {len(written):,} batches in {out / 'inbox'}")
    scripted = truth_frames["episodes"].filter("scripted")
    return {
        "out": str(out),
        "inbox": str(out / "inbox"),
        "truth": str(out / "truth"),
        "seed": cfg.seed,
        "start": cfg.start.isoformat(),
        "days": cfg.days,
        "scale": cfg.scale,
        "catch_rate_factor": cfg.catch_rate_factor,
        "world": world_record,
        "batch_days": cfg.batch_days,
        "format": cfg.fmt,
        "batches": len(written),
        "incidents": rows.n,
        "rows": {name: int(f.height) for name, f in frames.items()},
        "persons": {
            g: int((pop.group == i).sum()) for i, g in enumerate(population.GROUPS)
        },
        "truth_rows": truth_rows,
        "episode_44k": scripted.row(0, named=True) if scripted.height else None,
        "seconds": seconds,
    }
