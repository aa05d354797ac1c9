"""How one person's true attributes look in one system's record (names, IDs, mobiles).

Every function takes arrays of person indices (one per record) and returns a pyarrow array:
the messiness of SOURCES.md "Identifiers as they really occur" is applied here, per record.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import identity as ident
from .vocab import name_vocab
from .world import People


class Renderer:
    def __init__(self, people: People, con: duckdb.DuckDBPyConnection, noise: str):
        self.people = people
        self.con = con
        self.noise = noise
        self.vocab = name_vocab()
        v = self.vocab
        self._surname = {"s": pa.array(v.surname), "t": pa.array(v.surname_trad), "p": pa.array(v.surname_pinyin)}
        self._given = {"s": pa.array(v.given), "t": pa.array(v.given_trad), "p": pa.array(v.given_pinyin)}
        self.typo_rate = 0.03 if noise == "default" else 0.08

    # names -------------------------------------------------------------------------------
    def name(self, rng: np.random.Generator, person: np.ndarray, traditional=None, pinyin=None,
             typo_rate: float | None = None) -> pa.Array:
        """Simplified name; traditional / uppercase pinyin where masked; homophone or random
        character typos at `typo_rate` (applied to the last given character)."""
        p = self.people
        v = self.vocab
        n = len(person)
        s, g1, g2 = p.surname[person], p.g1[person].copy(), p.g2[person].copy()
        rate = self.typo_rate if typo_rate is None else typo_rate
        typo = rng.random(n) < rate
        homophone = rng.random(n) < 0.6
        two = g2 != v.empty_given
        randchar = rng.integers(0, v.empty_given, n)
        new_last = np.where(homophone, v.homophone[np.where(two, g2, g1)], randchar)
        g2 = np.where(typo & two, new_last, g2)
        g1 = np.where(typo & ~two, new_last, g1)
        out = self._join(s, g1, g2, "s")
        if traditional is not None and np.any(traditional):
            out = pc.if_else(pa.array(traditional), self._join(s, g1, g2, "t"), out)
        if pinyin is not None and np.any(pinyin):
            py = pc.binary_join_element_wise(
                self._surname["p"].take(pa.array(s)),
                pc.binary_join_element_wise(self._given["p"].take(pa.array(g1)), self._given["p"].take(pa.array(g2)), ""),
                " ",
            )
            out = pc.if_else(pa.array(pinyin), py, out)
        return out

    def true_name(self, person: np.ndarray) -> pa.Array:
        p = self.people
        return self._join(p.surname[person], p.g1[person], p.g2[person], "s")

    def _join(self, s, g1, g2, script: str) -> pa.Array:
        return pc.binary_join_element_wise(
            self._surname[script].take(pa.array(s)), self._given[script].take(pa.array(g1)),
            self._given[script].take(pa.array(g2)), "",
        )

    # identity documents ---------------------------------------------------------------------
    def id_no(self, rng: np.random.Generator, person: np.ndarray, missing_extra: float = 0.0) -> pa.Array:
        """The person's document number in one of its variants (resident IDs only vary)."""
        p = self.people
        n = len(person)
        probs = ident.id_variant_probs(self.noise)
        variant = rng.choice(len(probs), n, p=probs)
        variant = np.where(rng.random(n) < missing_extra, ident.ID_MISSING, variant)
        return ident.render_ids(self.con, p.doc_no[person], p.id15[person], p.id_bad[person], variant)

    def doc_type(self, person: np.ndarray) -> pa.Array:
        return pa.array(self.people.doc_type[person])

    # mobiles -------------------------------------------------------------------------------
    def mobile(self, rng: np.random.Generator, person: np.ndarray, day, missing_extra: float = 0.0,
               allow_missing: bool = True) -> pa.Array:
        n = len(person)
        probs = ident.mobile_variant_probs(self.noise).copy()
        if not allow_missing:
            probs[ident.MOB_MISSING] = 0
            probs /= probs.sum()
        variant = rng.choice(len(probs), n, p=probs)
        if allow_missing:
            variant = np.where(rng.random(n) < missing_extra, ident.MOB_MISSING, variant)
        true = self.people.mobile_at(person, day)
        return ident.render_mobiles(self.con, true, variant)
