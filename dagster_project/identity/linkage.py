"""Fellegi-Sunter scoring of candidate pairs, trained on the pairs that valid IDs label.

Comparisons and their levels (a missing value on either side is the level `null` and weighs
nothing):

| comparison | levels |
|---|---|
| name | `exact` / `exact_shared` / `exact_common` (same simplified name, or a pinyin-form name with the same key; by how many *other* known people carry it: none, a few, `common_name_holders` or more), `pinyin` (homophone), `typo` (same surname, one character off), `surname` (same surname only), `different`; a WeCom nickname that differs from the other name says nothing |
| birth | `exact`, `different` |
| gender | `exact`, `different` |
| mobile | `exact` (no other known person holds it), `shared` (another known person holds it too: a family phone), `different` |
| policy | `pol:<role>~<role>` (both records name one policy, in these roles), `family` (policies of one household), `employer` (group covers of one employer), `none` |
| agent | `same`, `different` agent code |

"Known people" are the deterministic units holding a valid ID. The frequency levels are the
term-frequency adjustment: an exact agreement on a name only one known person carries is worth
far more than on 张伟 / 王芳 / 李娜, and a mobile a whole household shares is worth little. They
are learnt like every other level instead of being a fixed log(u/tf) shift, because the people
a candidate pair confuses are not random strangers (a namesake sharing the agent, a spouse
sharing the phone).

**Training, not EM.** The labelled pairs (blocking.training_pairs: candidate pairs between
records whose units both hold a valid ID; same ID = same person) are counted. A pair is read
as if its first record were the stray record linkage has to place: the frequency levels count
the other holders of the value as the stray record would see them (its own unit still holds
the value through its other records, not through it). Each pair is counted in both
orientations.

**Weights.** m and u per level give the naive (conditional-independence) Fellegi-Sunter weight
log2(m/u) summed with the prior. Independence is exactly what fails for households (same
surname, same phone, same policy, different given name), so a pattern seen in training is
weighted by its own counts: the labelled pairs agreeing with it on every comparison it
observes (a `null` level marginalises), pulled by `pattern_pseudo_count` pseudo-pairs towards
its core (the counts on name, mobile and policy alone), which is pulled the same way towards
the naive estimate. Rare patterns fall back on their core, unseen cores on the naive model.

ID evidence the labelled pairs cannot teach (it needs a bad-check-digit ID on one side) adds
fixed Bayes factors from matching.yaml: `same_bad` (the same typo), `one_off` (one character
from the other's ID), `conflict` (two or more characters off: someone else's ID).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb

from .config import LinkageConfig
from .rules import chars_apart

COMPARISONS = ("name", "birth", "gender", "mobile", "policy", "agent")
# the comparisons whose interactions independence gets most wrong (first back-off of a rare pattern)
CORE_COMPARISONS = ("name", "mobile", "policy")


def others(attr: str) -> str:
    """SQL: how many known people other than the pair's hold the shared value of `attr`
    (`mob` / `name`), reading x as the stray record (see module doc)."""
    return (f"(x.{attr}_owners - case "
            f"when x.anchored and y.anchored and x.unit <> y.unit and x.unit_{attr}_records = 1 then 2 "
            f"when x.anchored or y.anchored then 1 else 0 end)")


def comparison_levels_sql(pairs: str, common_name_holders: int) -> str:
    """SQL: (a, b, <comparison levels>, id_level, holder_insured_other) for the pairs (a, b) of `pairs`."""
    name_others = others("name")
    return f"""
        select p.a, p.b,
            case
                when x.nm is null or y.nm is null then 'null'
                when (x.nm = y.nm and not (x.nick and y.nick))
                     or (not x.nick and not y.nick and (x.latin or y.latin) and x.nkey = y.nkey) then
                    case
                        when {name_others} <= 0 then 'exact'
                        when {name_others} < {common_name_holders} then 'exact_shared'
                        else 'exact_common'
                    end
                when x.nick or y.nick then 'null'
                when x.nkey = y.nkey then 'pinyin'
                when x.surname = y.surname and length(x.nm) = length(y.nm) and {chars_apart('x.nm', 'y.nm')} = 1 then 'typo'
                when x.surname = y.surname then 'surname'
                else 'different'
            end as name,
            case when x.birth is null or y.birth is null then 'null'
                 when x.birth = y.birth then 'exact' else 'different' end as birth,
            case when x.gender is null or y.gender is null then 'null'
                 when x.gender = y.gender then 'exact' else 'different' end as gender,
            case when x.mob is null or y.mob is null then 'null'
                 when x.mob = y.mob and {others('mob')} >= 1 then 'shared'
                 when x.mob = y.mob then 'exact' else 'different' end as mobile,
            case when x.pol = y.pol then 'pol:' || least(x.prole, y.prole) || '~' || greatest(x.prole, y.prole)
                 when x.fam = y.fam then case when left(x.fam, 1) = 'E' then 'employer' else 'family' end
                 else 'none' end as policy,
            case when x.agent is null or y.agent is null then 'null'
                 when x.agent = y.agent then 'same' else 'different' end as agent,
            case when x.id_form is null or y.id_form is null or left(x.id_form, 2) <> 'R:' or left(y.id_form, 2) <> 'R:' then 'null'
                 when x.id_form = y.id_form then 'same_bad'
                 when hamming(x.id_form, y.id_form) = 1 then 'one_off'
                 else 'conflict' end as id_level,
            coalesce(x.pol = y.pol and x.source_system = 'policy_admin' and y.source_system = 'policy_admin'
                     and x.prole <> y.prole and coalesce(x.relation, y.relation, 'self') <> 'self', false)
                as holder_insured_other
        from {pairs} p
        join mrec x on x.rid = p.a
        join mrec y on y.rid = p.b
    """


@dataclass(frozen=True)
class FSModel:
    """Trained naive weights log2(m/u) per (comparison, level) and the prior; the pattern counts
    stay in temp table `train_patterns`."""

    weights: dict[tuple[str, str], float]
    m: dict[tuple[str, str], float]
    u: dict[tuple[str, str], float]
    prior_bits: float
    training_pairs: int
    training_matches: int
    patterns: int

    def as_metadata(self) -> dict:
        return {
            "prior_bits": round(self.prior_bits, 3),
            "training_pairs": self.training_pairs,
            "training_matches": self.training_matches,
            "training_patterns": self.patterns,
            "weights_bits": {f"{c}={lv}": round(w, 2) for (c, lv), w in sorted(self.weights.items())},
        }


def train_model(con: duckdb.DuckDBPyConnection, cfg: LinkageConfig) -> FSModel:
    """Count m and u per comparison level, and the patterns, on the labelled pairs in `train`."""
    con.execute("""
        create or replace temp table train_both as
        select a, b, is_match from train union all select b as a, a as b, is_match from train
    """)
    con.execute(f"""
        create or replace temp table train_levels as
        select l.*, t.is_match
        from ({comparison_levels_sql('train_both', cfg.common_name_holders)}) l
        join train_both t using (a, b)
    """)
    con.execute("drop table train_both")
    n_match, n_non = con.execute(
        "select count(*) filter (where is_match), count(*) filter (where not is_match) from train_levels").fetchall()[0]
    weights: dict[tuple[str, str], float] = {}
    m: dict[tuple[str, str], float] = {}
    u: dict[tuple[str, str], float] = {}
    s = cfg.smoothing
    for comp in COMPARISONS:
        rows = con.execute(f"""
            select {comp}, count(*) filter (where is_match), count(*) filter (where not is_match)
            from train_levels where {comp} <> 'null' group by 1 order by 1
        """).fetchall()
        tot_m = sum(r[1] for r in rows)
        tot_u = sum(r[2] for r in rows)
        k = max(1, len(rows))
        for level, cm, cu in rows:
            pm = (cm + s) / (tot_m + s * k)
            pu = (cu + s) / (tot_u + s * k)
            m[(comp, level)], u[(comp, level)] = pm, pu
            weights[(comp, level)] = math.log2(pm / pu)
    prior = (n_match + s) / (n_non + s)
    cols = ", ".join(COMPARISONS)
    con.execute(f"""
        create or replace temp table train_patterns as
        select {cols}, count(*) as n, count(*) filter (where is_match) as n_match
        from train_levels group by all
    """)
    patterns = con.execute("select count(*) from train_patterns").fetchall()[0][0]
    con.execute("drop table train_levels")
    return FSModel(weights=weights, m=m, u=u, prior_bits=math.log2(prior), training_pairs=int(n_match + n_non),
                   training_matches=int(n_match), patterns=int(patterns))


def score_pairs(con: duckdb.DuckDBPyConnection, model: FSModel, cfg: LinkageConfig, pairs: str = "cand",
                out: str = "scored") -> None:
    """Temp table `out`(a, b, <levels>, id_level, holder_insured_other, pattern_bits,
    pattern_support, weight, probability) for the pairs of `pairs`."""
    con.execute(f"create or replace temp table _levels as {comparison_levels_sql(pairs, cfg.common_name_holders)}")
    # a level the labelled pairs never show (a caller's policy: callers carry no ID) says nothing
    # the model knows: it is read as null (marginalised), not as the training prior
    for comp in COMPARISONS:
        con.execute(f"""
            update _levels set {comp} = 'null'
            where {comp} <> 'null' and {comp} not in (select distinct {comp} from train_patterns)
        """)
    con.execute("create or replace temp table _weights (comparison varchar, level varchar, w double)")
    rows = [(c, lv, w) for (c, lv), w in model.weights.items()]
    if rows:
        con.executemany("insert into _weights values (?, ?, ?)", rows)
    cols = ", ".join(COMPARISONS)
    joins = " ".join(f"left join _weights w{i} on w{i}.comparison = '{c}' and w{i}.level = tp.{c}"
                     for i, c in enumerate(COMPARISONS))
    naive = " + ".join(f"coalesce(w{i}.w, 0)" for i in range(len(COMPARISONS)))
    agree = " and ".join(f"(tp.{c} = 'null' or trp.{c} = tp.{c})" for c in COMPARISONS)
    agree_core = " and ".join(f"(tp.{c} = 'null' or trp.{c} = tp.{c})" for c in CORE_COMPARISONS)
    k = cfg.pattern_pseudo_count
    # one weight per distinct pattern (a few hundred), then joined back to the pairs. Backing
    # off: full pattern -> its core (name, mobile, policy: where households and namesakes
    # interact) -> the naive estimate, each level pulled towards the next by k pseudo-pairs.
    con.execute(f"""
        create or replace temp table _pattern_weight as
        with target as (select distinct {cols} from _levels),
        naive as (select tp.*, {model.prior_bits} + {naive} as naive_bits from target tp {joins}),
        counted as (
            select {', '.join('tp.' + c for c in COMPARISONS)}, any_value(tp.naive_bits) as naive_bits,
                   coalesce(sum(trp.n), 0) as n, coalesce(sum(trp.n_match), 0) as n_match
            from naive tp left join train_patterns trp on {agree}
            group by all
        ),
        core as (
            select {', '.join('tp.' + c for c in COMPARISONS)},
                   coalesce(sum(trp.n), 0) as n_core, coalesce(sum(trp.n_match), 0) as n_match_core
            from target tp left join train_patterns trp on {agree_core}
            group by all
        ),
        smoothed as (
            select c.*, (c.n_match + {k} * p_core) / (c.n + {k}) as p
            from (
                select counted.*, (core.n_match_core + {k} / (1 + pow(2, -counted.naive_bits))) / (core.n_core + {k}) as p_core
                from counted join core using ({cols})
            ) c
        )
        select {cols}, n, naive_bits, log2(greatest(p, 1e-12) / greatest(1 - p, 1e-12)) as pattern_bits
        from smoothed
    """)
    id_bits = (f"case l.id_level when 'same_bad' then {cfg.id_same_bad_bits} "
               f"when 'one_off' then {cfg.id_one_off_bits} when 'conflict' then {cfg.id_conflict_bits} else 0 end")
    con.execute(f"""
        create or replace temp table {out} as
        select s.*, 1 / (1 + pow(2, -s.weight)) as probability
        from (
            select l.*, pw.pattern_bits, pw.n as pattern_support, pw.pattern_bits + {id_bits} as weight
            from _levels l join _pattern_weight pw using ({cols})
        ) s
    """)
    con.execute("drop table _levels")
    con.execute("drop table _pattern_weight")
