"""Ground truth written under `<truth>`: who is who, and who churned when.

- `person_records.parquet`: source_system, source_entity, role, source_record_id, person_id,
  household_id, party_type (`person` | `enterprise`). One row per distinct person-bearing record
  delivered (landing or superseded), keyed as SOURCES.md "Person-bearing records". An
  enterprise party's `person_id` is its enterprise id (`E...`) and its household_id is null.
- `persons.parquet`: person_id, household_id, household_role (head/spouse/child/parent), name
  (true, simplified), id_type, id_no (true document number), birth_date, gender (M/F),
  mobile (current), previous_mobile / mobile_changed_on (when the person changed numbers),
  city, is_twin.
- `households.parquet`: household_id, size, head_person_id, city.
- `enterprises.parquet`: person_id (`E...`), name, uscc.
- `churn_events.parquet`: person_id (the policy holder), policy_no, event_type
  (lapse | surrender | non_renewal), event_date, with_precursors (the event is late enough
  that its causes fall inside the delivered signal history). Individual policies only; events
  up to the last business date.
- `policy_risk.parquet`: policy_no, person_id, as_of (a month end), churn_prob_90d,
  churned_90d, label_complete. `churn_prob_90d` is the simulator's own probability that the
  policy churns in (as_of, as_of + 90 days] given its latent state (stress path, pending
  payment failures and surrender requests, renewal odds) but not the random draws still to
  come: the oracle. `churned_90d` is what happened; `label_complete` is false when the 90 days
  run past the last business date. Oracle ROC-AUC = AUC(churn_prob_90d, churned_90d) over rows
  with label_complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import world as W
from .calendar import month_of, month_start, to_date
from .records import SourceRecords, d_arr
from .vocab import CITIES

CHURN_CAUSES = {"lapse": "lapse", "surrender": "surrender", "non_renewal": "non_renewal"}
PRECURSOR_LEAD_DAYS = 90


def party_ids(n_persons: int, party: np.ndarray) -> np.ndarray:
    party = np.asarray(party, dtype=np.int64)
    person = W.fmt_codes("P", np.minimum(party, n_persons - 1), 8)
    ent = W.fmt_codes("E", np.maximum(party - n_persons, 0), 6)
    return np.where(party < n_persons, person, ent)


def household_ids(hh: np.ndarray) -> np.ndarray:
    return W.fmt_codes("H", hh, 7)


def write_parquet(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def person_records_table(world: SourceRecords, parts: list[pa.Table]) -> pa.Table:
    if parts:
        t = pa.concat_tables(parts)
    else:
        t = pa.table({"source_system": pa.array([], pa.string()), "source_entity": pa.array([], pa.string()),
                      "role": pa.array([], pa.string()), "source_record_id": pa.array([], pa.string()),
                      "party": pa.array([], pa.int64())})
    world.con.register("_pr", t)
    t = world.con.sql("""
        SELECT DISTINCT source_system, source_entity, role, source_record_id, party
        FROM _pr ORDER BY source_system, source_entity, role, source_record_id, party""").to_arrow_table()
    world.con.unregister("_pr")
    party = t.column("party").to_numpy()
    n = world.people.n
    is_person = party < n
    hh = world.people.household[np.minimum(party, n - 1)]
    return pa.table({
        "source_system": t.column("source_system"),
        "source_entity": t.column("source_entity"),
        "role": t.column("role"),
        "source_record_id": t.column("source_record_id"),
        "person_id": pa.array(party_ids(n, party)),
        "household_id": pa.array(household_ids(hh), pa.string(), mask=~is_person),
        "party_type": pa.array(np.where(is_person, "person", "enterprise")),
    })


def persons_table(world: SourceRecords) -> pa.Table:
    p = world.people
    idx = np.arange(p.n)
    changed = p.mobile_change < W.BIG
    return pa.table({
        "person_id": pa.array(party_ids(p.n, idx)),
        "household_id": pa.array(household_ids(p.household)),
        "household_role": pa.array(np.array(["head", "spouse", "child", "parent"])[p.role]),
        "name": world.render.true_name(idx),
        "id_type": pa.array(p.doc_type),
        "id_no": pa.array(p.doc_no.astype(str)),
        "birth_date": d_arr(p.birth),
        "gender": pa.array(np.array(["M", "F"])[p.gender]),
        "mobile": pa.array(np.where(changed, p.mobile_b, p.mobile_a).astype(str)),
        "previous_mobile": pa.array(p.mobile_a.astype(str), mask=~changed),
        "mobile_changed_on": d_arr(np.where(changed, p.mobile_change, 0), ~changed),
        "city": pa.array(np.array([c[0] for c in CITIES])[p.city]),
        "is_twin": pa.array(p.twin),
    })


def households_table(world: SourceRecords) -> pa.Table:
    p = world.people
    hh, first, size = np.unique(p.household, return_index=True, return_counts=True)
    return pa.table({
        "household_id": pa.array(household_ids(hh)),
        "size": pa.array(size.astype(np.int64)),
        "head_person_id": pa.array(party_ids(p.n, p.head[first])),
    })


def enterprises_table(world: SourceRecords) -> pa.Table:
    e = world.ent
    return pa.table({
        "person_id": pa.array(party_ids(world.people.n, world.people.n + np.arange(e.n))),
        "name": pa.array(e.name),
        "uscc": pa.array(e.uscc),
    })


def churn_events_table(world: SourceRecords) -> pa.Table:
    pol, w = world.pol, world.window
    sel = np.nonzero((pol.holder >= 0) & np.isin(pol.end_cause, list(CHURN_CAUSES)) & (pol.end < w.end))[0]
    order = np.lexsort((sel, pol.end[sel]))
    sel = sel[order]
    return pa.table({
        "person_id": pa.array(party_ids(world.people.n, pol.holder[sel])),
        "policy_no": pa.array(pol.policy_no[sel]),
        "event_type": pa.array(pol.end_cause[sel]),
        "event_date": d_arr(pol.end[sel]),
        "with_precursors": pa.array(pol.end[sel] >= world.h0 + PRECURSOR_LEAD_DAYS),
    })


def as_of_dates(world: SourceRecords) -> list[int]:
    """Month ends from six months before the start to the last business date."""
    w = world.window
    first = int(month_of(w.start)) - 6
    days = [int(month_start(m + 1)) - 1 for m in range(first, int(month_of(w.end - 1)) + 1)]
    return [d for d in days if world.h0 + 90 <= d < w.end]


def policy_risk_table(world: SourceRecords) -> pa.Table:
    pol, life, w, st = world.pol, world.life, world.window, world.stress
    holder = pol.holder
    indiv = holder >= 0
    churn_end = np.where(np.isin(pol.end_cause, list(CHURN_CAUSES)), pol.end, W.BIG)
    req_of = np.full(pol.n, W.BIG, dtype=np.int64)
    req_of[life.req_policy] = life.req_day
    out = []
    for a in as_of_dates(world):
        active = np.nonzero(indiv & (pol.issue <= a) & (pol.end > a))[0]
        if len(active) == 0:
            continue
        log_keep = np.zeros(pol.n)

        def add(policy, c):
            np.add.at(log_keep, policy, np.log1p(-np.clip(c, 0, 1 - 1e-9)))

        # lapses: instalments due in (a - 60, a + 30] lapse inside the window if never paid
        d = life.due_day
        m = (d > a - W.LAPSE_GRACE_DAYS) & (d <= a + 30)
        dd, dp = d[m], life.due_policy[m]
        fail, cured, pf = life.due_fail[m], life.due_cured[m], life.due_pfail[m]
        retried = a >= dd + 7
        c = np.where(dd > a, pf * (1 - W.CURE_P),
                     np.where(~fail, 0.0, np.where(retried, (~cured).astype(float), 1 - W.CURE_P)))
        add(dp, c)
        # surrenders: a pending request, or one filed soon enough to complete in the window
        r = req_of[active]
        pending = (r <= a) & (a < r + 80)
        c_pending = np.where(a < r + 45, W.SURRENDER_P, W.SURRENDER_P * np.clip((r + 80 - a) / 36, 0, 1))
        age_ok = pol.effective[active] + 365 <= a
        cash = pol.cash_value[active]
        s_next = st.at(holder[active], np.full(len(active), a + 15))
        h = W.sigmoid(-7.2 + 1.6 * s_next)
        c_future = np.where((r > a) & cash & age_ok, (1 - np.exp(-1.5 * h)) * W.SURRENDER_P * 0.6, 0.0)
        add(active, np.where(pending, c_pending, c_future))
        # non-renewals at anniversaries inside the window
        am = (life.ann_day > a) & (life.ann_day <= a + 90)
        add(life.ann_policy[am], life.ann_p_nonrenew[am])
        prob = 1 - np.exp(log_keep[active])
        label = (churn_end[active] > a) & (churn_end[active] <= a + 90)
        out.append((active, np.full(len(active), a), prob, label))
    if not out:
        active = asof = np.zeros(0, np.int64)
        prob = np.zeros(0)
        label = np.zeros(0, bool)
    else:
        active, asof, prob, label = (np.concatenate(x) for x in zip(*out))
    return pa.table({
        "policy_no": pa.array(pol.policy_no[active]),
        "person_id": pa.array(party_ids(world.people.n, holder[active])),
        "as_of": d_arr(asof),
        "churn_prob_90d": pa.array(np.round(prob, 6)),
        "churned_90d": pa.array(label),
        "label_complete": pa.array(asof + 90 <= w.end - 1),
    })


def iso(day: int) -> str:
    return to_date(day).isoformat()
