"""The records each system holds, built from the true world as version rows.

`SourceRecords.<system>__<entity>()` returns a pyarrow table with the contract's columns
(logical types: string, date32, local timestamp[ms], int64, float64, bool) plus meta columns
the writer uses and never delivers:

- `_day`    epoch day of the business date the version belongs to (its delivery folder);
- `_key`    int64 record key (versions of one record share it);
- `_ts`     local milliseconds ordering versions of one record;
- `_party_<role>` the true party (person index, or n_persons + enterprise index) per
  person-record role of the contract (`holder`, `insured`, `lead`, ...); -1 when none.

History depths carried by the initial load (months before the start date unless stated):
policies 10 years (every policy ever issued, current version), underwriting 36, claims 36,
billing 24, leads 24, tickets 12, privacy requests 12, app users all, app events 60 days,
bank customers all, monthly balances 12, touches 4, consents all, service usage 12, WeCom
contacts all (deleted ones excluded), risk bands 3.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import identity as ident
from . import world as W
from .calendar import MS_DAY, MS_HOUR, Window, add_years, month_of, month_start
from .render import Renderer
from .vocab import NICKNAMES, PAYMENT_FREQS, PRODUCTS, TICKET_SUMMARIES

HISTORY_MONTHS = {
    "underwriting": 36, "claims": 36, "billing": 24, "leads": 24, "tickets": 12, "privacy": 12,
    "balances": 12, "touches": 4, "usage": 12, "bands": 3,
}
APP_EVENT_HISTORY_DAYS = 60
BIG = W.BIG


# typed array helpers ---------------------------------------------------------------------
def s_arr(values, null=None) -> pa.Array:
    arr = pa.array(values, pa.string()) if not isinstance(values, pa.Array) else values
    if null is not None and np.any(null):
        arr = pa.compute.if_else(pa.array(np.asarray(null)), pa.scalar(None, pa.string()), arr)
    return arr


def d_arr(days, null=None) -> pa.Array:
    days = np.asarray(days, dtype=np.int64)
    mask = None if null is None else np.asarray(null)
    return pa.array(days.astype(np.int32), pa.int32(), mask=mask).cast(pa.date32())


def t_arr(ms, null=None) -> pa.Array:
    ms = np.asarray(ms, dtype=np.int64)
    mask = None if null is None else np.asarray(null)
    return pa.array(ms, pa.int64(), mask=mask).cast(pa.timestamp("ms"))


def f_arr(values, null=None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), pa.float64(), mask=None if null is None else np.asarray(null))


def i_arr(values, null=None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64(), mask=None if null is None else np.asarray(null))


def pick(rng, options, n, p=None) -> np.ndarray:
    options = np.asarray(options)
    if p is not None:
        p = np.asarray(p, dtype=float)
        p = p / p.sum()
    return options[rng.choice(len(options), n, p=p)]


def tod(rng, n, lo_h: float, hi_h: float) -> np.ndarray:
    """Random time of day in ms between two hours."""
    return (rng.uniform(lo_h, hi_h, n) * MS_HOUR).astype(np.int64)


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repeat record indices by count; also return each row's rank within its record."""
    counts = np.asarray(counts, dtype=np.int64)
    idx = np.repeat(np.arange(len(counts)), counts)
    rank = np.arange(len(idx)) - np.repeat(np.cumsum(counts) - counts, counts)
    return idx, rank


def stage_rows(times: np.ndarray, until_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, k) stage times (-1 = stage never reached) -> (record, stage, time) of reached stages."""
    ok = (times >= 0) & (times < until_ms)
    rec, stage = np.nonzero(ok)
    return rec, stage, times[rec, stage]


def codes(prefix: str, n: int, start: int = 0, width: int = 10) -> np.ndarray:
    return W.fmt_codes(prefix, np.arange(start, start + n, dtype=np.int64) + 10 ** (width - 1), width)


def arrow_codes(prefix: str, n: int, start: int = 0, width: int = 10) -> pa.Array:
    """Like `codes`, as an Arrow array (fast for millions of rows)."""
    numbers = pa.array(np.arange(start, start + n, dtype=np.int64) + 10 ** (width - 1))
    return pc.binary_join_element_wise(pa.scalar(prefix), pc.cast(numbers, pa.string()), "")


def random_tokens(rng, n: int, length: int, alphabet: str) -> np.ndarray:
    chars = np.frombuffer(alphabet.encode(), dtype=np.uint8)
    m = chars[rng.integers(0, len(chars), (n, length))]
    return np.ascontiguousarray(m).view(f"S{length}").ravel().astype(f"U{length}")


def with_meta(cols: dict, day, key, ts, **parties) -> pa.Table:
    cols = {k: (v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v)) for k, v in cols.items()}
    cols["_day"] = pa.array(np.asarray(day, dtype=np.int64))
    cols["_key"] = pa.array(np.asarray(key, dtype=np.int64))
    cols["_ts"] = pa.array(np.asarray(ts, dtype=np.int64))
    for role, party in parties.items():
        cols[f"_party_{role}"] = pa.array(np.asarray(party, dtype=np.int64))
    return pa.table(cols)


class SourceRecords:
    """The world plus every system's records, built on demand per entity."""

    def __init__(self, seed: int, persons: int, window: Window, noise: str, con):
        self.seed = seed
        self.window = window
        self.noise = noise
        self.con = con
        self.people = W.build_people(seed, persons, window)
        self.ent = W.build_enterprises(seed, self.people, window)
        self.pol = W.build_policies(seed, self.people, self.ent, window)
        self.render = Renderer(self.people, con, noise)
        self.h0 = window.months_back(W.SIGNAL_HISTORY_MONTHS)
        self._memberships()
        self._claims_base()
        baseline = self._baseline()
        rej = self.claim_status_final == "rejected"
        self.stress = W.Stress(
            W.stress_path(seed, self.people, window, baseline, self.claim_person[rej], self.claim_decided_day[rej]),
            window,
        )
        self.orphan = np.isin(self.pol.channel, ["agent", "telesales"]) & np.equal(self.pol.agent, None)
        self.life = W.run_lifecycle(seed, self.pol, self.people, self.ent, self.stress, window, self.orphan)
        self._drop_claims_after_end()
        self._ann_premiums()

    # shared facts ---------------------------------------------------------------------------
    def rng(self, name: str) -> np.random.Generator:
        return W.rng_for(self.seed, "records/" + name)

    @property
    def end_ms(self) -> int:
        return self.window.end * MS_DAY

    def party_of_enterprise(self, e: np.ndarray) -> np.ndarray:
        return self.people.n + np.asarray(e)

    def _memberships(self):
        rng = self.rng("memberships")
        p, pol = self.people, self.pol
        n = p.n
        age = p.age_at(self.window.start)
        adult = age >= 18
        holder_any = np.zeros(n, bool)
        holder_any[pol.holder[pol.holder >= 0]] = True
        online = np.zeros(n, bool)
        online[pol.holder[(pol.holder >= 0) & (pol.channel == "online")]] = True
        self.app_user = adult & (age < 66) & (rng.random(n) < np.where(online, 0.55, 0.28))
        banca = np.zeros(n, bool)
        banca[pol.holder[(pol.holder >= 0) & (pol.channel == "bancassurance")]] = True
        self.bank_customer = adult & (banca | (rng.random(n) < 0.06))
        agent_pol = (pol.holder >= 0) & np.not_equal(pol.agent, None)
        with_agent = np.zeros(n, bool)
        with_agent[pol.holder[agent_pol]] = True
        self.wecom = with_agent & (rng.random(n) < 0.5)
        self.holder_any = holder_any
        self.lead_prospect = adult & (rng.random(n) < 0.22)

    def _baseline(self) -> np.ndarray:
        rng = self.rng("baseline")
        p = self.people
        age = p.age_at(self.window.start)
        return (-0.4 + 0.35 * (age < 30) - 0.3 * self.wecom - 0.2 * self.app_user
                + rng.normal(0, 0.5, p.n)).astype(np.float64)

    def _claims_base(self):
        """Claims over the claims history window (before churn is known; trimmed afterwards)."""
        rng = self.rng("claims")
        pol, w = self.pol, self.window
        lo = w.months_back(HISTORY_MONTHS["claims"])
        rate = {"HLT01": 0.10, "HLT02": 0.25, "CI01": 0.01, "ACC01": 0.04, "LIF01": 0.003, "LIF02": 0.004,
                "ANN01": 0.0, "PRP01": 0.03, "GRP01": 0.15, "GRP02": 0.04}
        r = np.array([rate[pr.code] for pr in PRODUCTS])[pol.product]
        start = np.maximum(pol.effective, lo)
        expo = np.maximum(0, w.end - start) / 365.25
        cnt = rng.poisson(r * expo)
        idx, _ = expand(cnt)
        m = len(idx)
        incident = start[idx] + (rng.random(m) * (w.end - start[idx])).astype(np.int64)
        ctype = {"health": "medical", "accident": "accident", "life": "death", "property": "property", "annuity": "medical"}
        ctype_arr = np.array([ctype[pr.line] if pr.code != "CI01" else "critical_illness" for pr in PRODUCTS])[pol.product[idx]]
        claimant = pol.insured[idx].copy()
        death = ctype_arr == "death"
        alt = np.where(pol.holder[idx] >= 0, pol.holder[idx], self.people.partner[pol.insured[idx]])
        claimant[death] = alt[death]
        ok = claimant >= 0
        idx, incident, ctype_arr, claimant = idx[ok], incident[ok], ctype_arr[ok], claimant[ok]
        m = len(idx)
        reported = incident * MS_DAY + rng.integers(0, 20, m) * MS_DAY + tod(rng, m, 8, 20)
        fraud = rng.random(m) < 0.05
        u = rng.random(m)
        final = np.where(u < np.where(fraud, 0.6, 0.11), "rejected", np.where(u > 0.97, "withdrawn", "paid"))
        t1 = reported + rng.integers(1, 7, m) * MS_DAY + tod(rng, m, 0, 8)
        t2 = t1 + rng.integers(3, 30, m) * MS_DAY
        t3 = np.where(final == "paid", t2 + rng.integers(2, 10, m) * MS_DAY, -1)
        self.claim_policy, self.claim_incident, self.claim_type = idx, incident, ctype_arr
        self.claim_person, self.claim_fraud, self.claim_status_final = claimant, fraud, final
        self.claim_times = np.stack([reported, t1, t2, t3], axis=1)
        self.claim_decided_day = t2 // MS_DAY
        base = {"medical": 8000, "critical_illness": 200000, "accident": 15000, "death": 300000, "property": 20000}
        self.claim_amount = np.round(np.array([base[t] for t in ctype_arr]) * rng.lognormal(0, 0.8, m), 2) if m else np.zeros(0)

    def _drop_claims_after_end(self):
        keep = self.claim_incident < self.pol.end[self.claim_policy]
        for name in ("claim_policy", "claim_incident", "claim_type", "claim_person", "claim_fraud",
                     "claim_status_final", "claim_times", "claim_decided_day", "claim_amount"):
            setattr(self, name, getattr(self, name)[keep])

    def _ann_premiums(self):
        """Premium in force after each renewal notice (cumulative increases per policy)."""
        life = self.life
        order = np.lexsort((life.ann_day, life.ann_policy))
        for f in ("ann_policy", "ann_day", "ann_increase", "ann_p_nonrenew", "ann_nonrenew"):
            setattr(life, f, getattr(life, f)[order])
        logm = np.log(life.ann_increase)
        cs = np.cumsum(logm)
        first = np.r_[True, life.ann_policy[1:] != life.ann_policy[:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(cs)), 0))
        offset = cs[group_start] - logm[group_start]
        self.ann_premium = np.round(self.pol.premium[life.ann_policy] * np.exp(cs - offset), 2)

    def premium_at(self, policy: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Premium in force on `day` (after increases announced at notices on or before it)."""
        life = self.life
        notice = life.ann_day - 75
        key_a = life.ann_policy.astype(np.int64) * BIG + notice
        order = np.argsort(key_a, kind="stable")
        key_sorted = key_a[order]
        q = np.asarray(policy, dtype=np.int64) * BIG + np.asarray(day)
        pos = np.searchsorted(key_sorted, q, side="right") - 1
        hit = (pos >= 0) & (life.ann_policy[order][np.maximum(pos, 0)] == policy)
        return np.where(hit, self.ann_premium[order][np.maximum(pos, 0)], self.pol.premium[policy])

    def holder_person(self) -> np.ndarray:
        """The person behind a policy: the holder, or for group cover the insured employee."""
        return np.where(self.pol.holder >= 0, self.pol.holder, self.pol.insured)

    # policy_admin ----------------------------------------------------------------------------
    def policy_admin__policies(self) -> pa.Table:
        rng = self.rng("policies")
        pol, p, w, life = self.pol, self.people, self.window, self.life
        n = pol.n
        grp = pol.enterprise >= 0
        renew = pol.renew1y
        # versions: issue, last renewal before the window, renewals / notices / end in the window
        k_pre = np.floor((self.h0 - pol.effective) / 365.25).astype(np.int64)
        pre_day = add_years(pol.effective, np.maximum(k_pre, 1))
        has_pre = renew & (k_pre >= 1) & (pre_day < pol.end) & (pre_day < self.h0)
        renewed = ~life.ann_nonrenew & (life.ann_day < pol.end[life.ann_policy])
        inc = life.ann_increase > 1
        notice_day = life.ann_day - 75
        has_end = pol.end < w.end
        v_pol = np.concatenate([np.arange(n), np.nonzero(has_pre)[0], life.ann_policy[renewed],
                                life.ann_policy[inc], np.nonzero(has_end)[0]])
        v_day = np.concatenate([pol.issue, pre_day[has_pre], life.ann_day[renewed], notice_day[inc], pol.end[has_end]])
        v_kind = np.concatenate([np.zeros(n), np.ones(has_pre.sum()), np.full(renewed.sum(), 2),
                                 np.full(inc.sum(), 3), np.full(has_end.sum(), 4)]).astype(np.int8)
        ok = (v_day < w.end) & (v_day >= pol.issue[v_pol]) & ((v_day <= pol.end[v_pol]) | (v_kind == 4))
        v_pol, v_day, v_kind = v_pol[ok], v_day[ok], v_kind[ok]
        v_ts = v_day * MS_DAY + np.where(v_kind == 0, tod(rng, len(v_pol), 9, 18), tod(rng, len(v_pol), 1, 4))
        # expiry: one-year cover runs to the day before its next anniversary after the version
        years = np.floor((v_day - pol.effective[v_pol]) / 365.25).astype(np.int64)
        k_next = np.maximum(years + 1, 1)
        exp_renew = add_years(pol.effective[v_pol], k_next) - 1
        exp_renew = np.where(v_kind == 3, add_years(pol.effective[v_pol], np.maximum(years + 1, 1)) - 1, exp_renew)
        term_end = pol.term_end[v_pol]
        expiry = np.where(renew[v_pol], exp_renew, term_end)
        status = np.where(v_kind == 4, pol.end_status[v_pol], "IF")
        premium = self.premium_at(v_pol, v_day)

        # per-policy rendering (stable across versions)
        hp = np.maximum(pol.holder, 0)
        trad = p.hkmo[hp] | (rng.random(n) < 0.01)
        holder_name = self.render.name(rng, hp, traditional=trad)
        holder_name = pa.compute.if_else(pa.array(grp), pa.array(self.ent.name[np.maximum(pol.enterprise, 0)]), holder_name)
        holder_id = self.render.id_no(rng, hp)
        holder_id = pa.compute.if_else(pa.array(grp), pa.array(self.ent.uscc[np.maximum(pol.enterprise, 0)]), holder_id)
        id_type = np.where(grp, "07", p.doc_type[hp])
        holder_mobile = self.render.mobile(rng, hp, pol.issue)
        ent_mobile = pa.array(self.ent.mobile[np.maximum(pol.enterprise, 0)], pa.string())
        holder_mobile = pa.compute.if_else(pa.array(grp), ent_mobile, holder_mobile)
        gender_style = rng.choice(3, n, p=[0.5, 0.3, 0.2])
        gender_txt = np.array([["M", "F"], ["1", "2"], ["男", "女"]])[gender_style, p.gender[hp]]
        birth_missing = grp | (rng.random(n) < 0.04)
        insured_trad = p.hkmo[pol.insured] | trad
        insured_name = self.render.name(rng, pol.insured, traditional=insured_trad)
        insured_id = self.render.id_no(rng, pol.insured, missing_extra=0.05)

        def per(arr):
            return arr.take(pa.array(v_pol)) if isinstance(arr, pa.Array) else np.asarray(arr)[v_pol]

        cols = {
            "policy_no": per(pol.policy_no),
            "holder_name": per(holder_name),
            "holder_id_type": per(id_type),
            "holder_id_no": per(holder_id),
            "holder_mobile": per(holder_mobile),
            "holder_birth": d_arr(p.birth[hp][v_pol], birth_missing[v_pol]),
            "holder_gender": s_arr(gender_txt[v_pol], null=(grp | (rng.random(n) < 0.03))[v_pol]),
            "insured_name": per(insured_name),
            "insured_id_no": per(insured_id),
            "insured_relation": per(pol.relation),
            "product_code": per(np.array([pr.code for pr in PRODUCTS])[pol.product]),
            "product_line": per(pol.line),
            "channel": per(pol.channel),
            "issue_date": d_arr(pol.issue[v_pol]),
            "effective_date": d_arr(pol.effective[v_pol]),
            "expiry_date": d_arr(np.maximum(expiry, 0), expiry < 0),
            "premium_annual": f_arr(premium),
            "payment_freq": per(np.array(PAYMENT_FREQS)[pol.freq]),
            "status": s_arr(status),
            "agent_code": s_arr(per(pol.agent)),
            "branch_code": per(pol.branch),
            "updated_at": t_arr(v_ts),
        }
        holder_party = np.where(grp, self.party_of_enterprise(np.maximum(pol.enterprise, 0)), pol.holder)
        return with_meta(cols, v_day, v_pol, v_ts, holder=holder_party[v_pol], insured=pol.insured[v_pol])

    # agent_crm ------------------------------------------------------------------------------
    def agent_crm__leads(self) -> pa.Table:
        rng = self.rng("leads")
        pol, p, w = self.pol, self.people, self.window
        lo = w.months_back(HISTORY_MONTHS["leads"])
        won_pol = np.nonzero((pol.holder >= 0) & (pol.channel == "agent") & np.not_equal(pol.agent, None)
                             & (pol.issue >= lo + 90) & (rng.random(pol.n) < 0.6))[0]
        prospects = np.nonzero(self.lead_prospect)[0]
        dup = prospects[rng.random(len(prospects)) < 0.1]
        won_dup = won_pol[rng.random(len(won_pol)) < 0.05]
        person = np.concatenate([pol.holder[won_pol], prospects, dup, pol.holder[won_dup]])
        won = np.concatenate([np.ones(len(won_pol), bool), np.zeros(len(prospects) + len(dup), bool),
                              np.zeros(len(won_dup), bool)])
        lead_policy = np.concatenate([won_pol, np.full(len(prospects) + len(dup), -1), won_dup])
        n = len(person)
        issue = np.where(lead_policy >= 0, pol.issue[np.maximum(lead_policy, 0)], 0)
        created = np.where(won, issue - rng.integers(20, 90, n), lo + (rng.random(n) * (w.end - lo)).astype(np.int64))
        created = np.where(~won & (lead_policy >= 0), issue - rng.integers(30, 120, n), created)
        c_ms = created * MS_DAY + tod(rng, n, 9, 21)
        contacted = np.where(rng.random(n) < 0.85, c_ms + rng.integers(1, 10, n) * MS_DAY, -1)
        proposal = np.where(won | ((contacted >= 0) & (rng.random(n) < 0.45)),
                            np.maximum(contacted, c_ms) + rng.integers(3, 25, n) * MS_DAY, -1)
        proposal = np.where(won, np.minimum(proposal, issue * MS_DAY - MS_DAY), proposal)
        contacted = np.where(won, np.minimum(np.maximum(contacted, c_ms + MS_HOUR), proposal - MS_HOUR), contacted)
        final = np.where(won, issue * MS_DAY + tod(rng, n, 10, 18),
                         np.where((proposal >= 0) & (rng.random(n) < 0.6), proposal + rng.integers(10, 90, n) * MS_DAY, -1))
        times = np.stack([c_ms, contacted, proposal, final], axis=1)
        deleted = np.where(rng.random(n) < 0.03, c_ms + rng.integers(30, 300, n) * MS_DAY, -1)
        times = np.concatenate([times, deleted[:, None]], axis=1)
        # a deleted lead stops there
        for k in range(4):
            times[:, k] = np.where((deleted >= 0) & (times[:, k] >= deleted), -1, times[:, k])
        rec, stage, ts = stage_rows(times, self.end_ms)
        stage_names = np.array(["new", "contacted", "proposal", "won", "lost"])
        final_stage = np.where(won, 3, 4)
        st_idx = np.where(stage == 3, final_stage[rec], stage)
        # a tombstone carries the last full image: the stage reached before the delete
        last_stage = np.where(times[:, 3] >= 0, final_stage, np.where(times[:, 2] >= 0, 2, np.where(times[:, 1] >= 0, 1, 0)))
        st_idx = np.where(stage == 4, last_stage[rec], st_idx)
        order = np.lexsort((ts, rec))
        rec, stage, ts, st_idx = rec[order], stage[order], ts[order], st_idx[order]
        first = np.r_[True, rec[1:] != rec[:-1]]
        op = np.where(stage == 4, "D", np.where(first, "I", "U"))
        agents = np.where(lead_policy >= 0, pol.agent[np.maximum(lead_policy, 0)], None)
        rand_agent = W.fmt_codes("A", 100000 + rng.integers(0, max(5, p.n // 150), n), 6).astype(object)
        agents = np.where(np.equal(agents, None), rand_agent, agents)
        name = self.render.name(rng, person)
        mobile = self.render.mobile(rng, person, created, missing_extra=0.05)
        id_no = self.render.id_no(rng, person, missing_extra=0.7)
        wechat = np.char.add("wxid_", random_tokens(rng, n, 14, "abcdefghijklmnopqrstuvwxyz0123456789"))
        wechat_null = rng.random(n) > 0.35
        won_no = np.where(won, pol.policy_no[np.maximum(lead_policy, 0)], None)
        r = pa.array(rec)
        cols = {
            "lead_id": codes("L", n, width=9)[rec],
            "op": op,
            "customer_name": name.take(r),
            "mobile": mobile.take(r),
            "id_no": id_no.take(r),
            "wechat_id": s_arr(wechat[rec], wechat_null[rec]),
            "source_channel": pick(rng, ["referral", "event", "cold_call", "online_form", "wechat_moments"], n,
                                   [0.35, 0.15, 0.2, 0.2, 0.1])[rec],
            "agent_code": agents[rec].astype(str),
            "stage": stage_names[st_idx],
            "won_policy_no": s_arr(won_no[rec], null=st_idx != 3),
            "created_at": t_arr(c_ms[rec]),
            "updated_at": t_arr(ts),
        }
        return with_meta(cols, ts // MS_DAY, rec, ts, lead=person[rec])

    # underwriting ----------------------------------------------------------------------------
    def underwriting__uw_cases(self) -> pa.Table:
        rng = self.rng("uw")
        pol, p, w = self.pol, self.people, self.window
        lo = w.months_back(HISTORY_MONTHS["underwriting"])
        line = pol.line
        cases = np.nonzero((pol.holder >= 0) & np.isin(line, ["life", "health", "annuity"]) & (pol.issue >= lo))[0]
        adults = np.nonzero(p.age_at(w.start) >= 18)[0]
        extra_n = max(1, len(cases) // 12)
        extra_person = adults[rng.integers(0, len(adults), extra_n)]
        person = np.concatenate([pol.insured[cases], extra_person])
        n = len(person)
        decided = np.concatenate([pol.issue[cases] - rng.integers(1, 10, len(cases)),
                                  lo + (rng.random(extra_n) * (w.end - lo)).astype(np.int64)])
        decision = np.concatenate([pick(rng, ["standard", "rated", "exclusion"], len(cases), [0.76, 0.14, 0.10]),
                                   pick(rng, ["declined", "postponed"], extra_n, [0.6, 0.4])])
        policy_no = np.concatenate([pol.policy_no[cases], np.full(extra_n, "")])
        ok = decided < w.end
        order = np.argsort(decided[ok], kind="stable")
        sel = np.nonzero(ok)[0][order]
        person, decided, decision, policy_no = person[sel], decided[sel], decision[sel], policy_no[sel]
        n = len(person)
        cols = {
            "uw_case_id": codes("UW", n),
            "policy_no": s_arr(policy_no, policy_no == ""),
            "proposal_no": codes("PR", n, start=rng.integers(0, 1000)),
            "applicant_name": self.render.name(rng, person),
            "applicant_id_no": self.render.id_no(rng, person, missing_extra=0.03),
            "birth_date": d_arr(p.birth[person], rng.random(n) < 0.08),
            "smoker": s_arr(pick(rng, ["Y", "N"], n, [0.22, 0.78]), rng.random(n) < 0.2),
            "occupation_class": i_arr(rng.choice(6, n, p=[0.45, 0.25, 0.15, 0.08, 0.05, 0.02]) + 1, rng.random(n) < 0.3),
            "bmi": f_arr(np.round(rng.normal(23.5, 3.5, n), 1), rng.random(n) < 0.3),
            "decision": decision,
            "decided_at": d_arr(decided),
        }
        ts = decided * MS_DAY + tod(rng, n, 9, 18)
        return with_meta(cols, decided, np.arange(n), ts, applicant=person)

    # claims ------------------------------------------------------------------------------------
    def claims__claims(self) -> pa.Table:
        rng = self.rng("claims_rows")
        pol = self.pol
        m = len(self.claim_policy)
        order = np.argsort(self.claim_times[:, 0], kind="stable")
        rec, stage, ts = stage_rows(self.claim_times[order], self.end_ms)
        c = order[rec]
        final = self.claim_status_final[c]
        status = np.select([stage == 0, stage == 1, (stage == 2) & (final == "paid")], ["reported", "investigating", "approved"],
                           np.where(stage == 3, "paid", final))
        closed = np.isin(status, ["paid", "rejected", "withdrawn"])
        paid_amt = np.round(self.claim_amount * rng.uniform(0.5, 1.0, m), 2)[c]
        name = self.render.name(rng, self.claim_person, traditional=self.people.hkmo[self.claim_person])
        idno = self.render.id_no(rng, self.claim_person, missing_extra=0.03)
        mobile = self.render.mobile(rng, self.claim_person, self.claim_incident, missing_extra=0.1)
        ids = codes("CLM", m)
        ca = pa.array(c)
        cols = {
            "claim_id": ids[c],
            "policy_no": pol.policy_no[self.claim_policy[c]],
            "claimant_name": name.take(ca),
            "claimant_id_no": idno.take(ca),
            "claimant_mobile": mobile.take(ca),
            "incident_date": d_arr(self.claim_incident[c]),
            "reported_at": t_arr(self.claim_times[c, 0]),
            "claim_type": self.claim_type[c],
            "claimed_amount": f_arr(self.claim_amount[c]),
            "paid_amount": f_arr(paid_amt, ~np.isin(status, ["approved", "paid"])),
            "status": status,
            "fraud_suspected": pa.array(self.claim_fraud[c]),
            "closed_at": t_arr(ts, ~closed),
            "updated_at": t_arr(ts),
        }
        return with_meta(cols, ts // MS_DAY, c, ts, claimant=self.claim_person[c])

    # billing ---------------------------------------------------------------------------------
    def billing__payments(self) -> pa.Table:
        rng = self.rng("billing")
        pol, life, w = self.pol, self.life, self.window
        d_pol, d_day = life.due_policy, life.due_day
        # surrender refunds
        sur = (pol.end_status == "SU") & (pol.end < w.end) & (pol.end >= self.h0)
        s_pol = np.nonzero(sur)[0]
        all_pol = np.concatenate([d_pol, s_pol])
        all_day = np.concatenate([d_day, pol.end[s_pol]])
        refund = np.concatenate([np.zeros(len(d_pol), bool), np.ones(len(s_pol), bool)])
        fail = np.concatenate([life.due_fail, np.zeros(len(s_pol), bool)])
        cured = np.concatenate([life.due_cured, np.zeros(len(s_pol), bool)])
        n = len(all_pol)
        order = np.lexsort((all_pol, all_day))
        all_pol, all_day, refund, fail, cured = all_pol[order], all_day[order], refund[order], fail[order], cured[order]
        freq_m = np.array([12, 6, 3, 1, 0])[pol.freq[all_pol]]
        premium = self.premium_at(all_pol, all_day)
        per_instalment = np.where(freq_m > 0, premium * np.maximum(freq_m, 1) / 12, premium)
        years_in = np.maximum(0.3, (all_day - pol.effective[all_pol]) / 365.25)
        amount = np.where(refund, premium * np.minimum(years_in, 20) * 0.45, per_instalment)
        amount_fen = np.round(amount * 100).astype(np.int64)
        base = all_day * MS_DAY
        paid_ok = base + rng.integers(-3, 3, n) * MS_DAY + tod(rng, n, 6, 22)
        t_fail = base + MS_DAY + tod(rng, n, 1, 4)
        t_cure = base + rng.integers(5, 21, n) * MS_DAY + tod(rng, n, 8, 20)
        t_over = base + 30 * MS_DAY + tod(rng, n, 1, 4)
        v1 = np.where(fail, t_fail, np.where(refund, base + tod(rng, n, 9, 17), paid_ok))
        v2 = np.where(fail, np.where(cured, t_cure, t_over), -1)
        rec, stage, ts = stage_rows(np.stack([v1, v2], axis=1), self.end_ms)
        status = np.where(refund[rec], "refunded",
                          np.where(~fail[rec], "paid", np.where(stage == 0, "failed", np.where(cured[rec], "paid", "overdue"))))
        paid_at = np.where(status == "paid", ts, np.where(status == "refunded", ts, -1))
        method_by_channel = {"agent": ["bank_debit", "wechat_pay", "alipay", "card", "cash"],
                             "bancassurance": ["bank_debit"], "online": ["wechat_pay", "alipay", "card"],
                             "telesales": ["bank_debit", "card"], "group": ["bank_debit"]}
        method = np.empty(n, dtype=object)
        ch = pol.channel[all_pol]
        for c, opts in method_by_channel.items():
            rows = ch == c
            method[rows] = pick(rng, opts, rows.sum())
        hp = np.where(pol.holder >= 0, pol.holder, 0)
        payer = self.render.name(rng, hp[all_pol], typo_rate=0.01)
        grp = pa.array(pol.enterprise[all_pol] >= 0)
        payer = pa.compute.if_else(grp, pa.array(self.ent.name[np.maximum(pol.enterprise[all_pol], 0)]), payer)
        payer = s_arr(payer, rng.random(n) < 0.15)
        due = all_day
        ra = pa.array(rec)
        cols = {
            "txn_id": codes("T", n, width=12)[rec],
            "policy_no": pol.policy_no[all_pol][rec],
            "payer_name": payer.take(ra),
            "amount_fen": i_arr(amount_fen[rec]),
            "due_date": d_arr(due[rec]),
            "paid_at": t_arr(np.maximum(paid_at, 0), paid_at < 0),
            "method": method[rec].astype(str),
            "status": status,
            "updated_at": t_arr(ts),
        }
        return with_meta(cols, ts // MS_DAY, rec, ts)

    # call_center -----------------------------------------------------------------------------
    def _complaint_months(self, rng, persons: np.ndarray, lo: int) -> tuple[np.ndarray, np.ndarray]:
        """Complaints: one Bernoulli per person and month, P rising with stress."""
        out_p, out_d = [], []
        for mm in range(int(month_of(lo)), int(month_of(self.window.end - 1)) + 1):
            day0 = int(month_start(mm))
            s = self.stress.s[persons, mm - self.stress.m0].astype(np.float64)
            hit = rng.random(len(persons)) < W.sigmoid(-5.0 + 1.3 * s)
            out_p.append(persons[hit])
            out_d.append(day0 + rng.integers(0, 28, hit.sum()))
        return np.concatenate(out_p), np.concatenate(out_d)

    def call_center__tickets(self) -> pa.Table:
        rng = self.rng("tickets")
        pol, p, w, life = self.pol, self.people, self.window, self.life
        lo = w.months_back(HISTORY_MONTHS["tickets"])
        hp = self.holder_person()
        active = (pol.holder >= 0) & (pol.end > lo)
        act_idx = np.nonzero(active)[0]
        # baseline contacts about a policy
        cnt = rng.poisson(0.2 * (w.end - lo) / 365.25, len(act_idx))
        b_pol, _ = expand(cnt)
        b_pol = act_idx[b_pol]
        b_day = lo + (rng.random(len(b_pol)) * (w.end - lo)).astype(np.int64)
        b_cat = pick(rng, ["inquiry", "policy_change", "renewal", "claim_status"], len(b_pol), [0.55, 0.2, 0.15, 0.1])
        # complaints driven by stress
        holders = np.unique(pol.holder[act_idx])
        c_person, c_day = self._complaint_months(rng, holders, lo)
        first_pol = np.full(p.n, -1)
        first_pol[pol.holder[act_idx][::-1]] = act_idx[::-1]
        c_pol = first_pol[c_person]
        # surrender requests and claim follow-ups
        r_sel = life.req_day >= lo
        r_pol, r_day = life.req_policy[r_sel], life.req_day[r_sel]
        cl_sel = (rng.random(len(self.claim_policy)) < 0.3)
        cl_pol = self.claim_policy[cl_sel]
        cl_day = self.claim_times[cl_sel, 0] // MS_DAY + rng.integers(3, 20, cl_sel.sum())
        t_pol = np.concatenate([b_pol, c_pol, r_pol, cl_pol])
        t_day = np.concatenate([b_day, c_day, r_day, cl_day])
        cat = np.concatenate([b_cat, np.full(len(c_pol), "complaint"), np.full(len(r_pol), "surrender_request"),
                              np.full(len(cl_pol), "claim_status")])
        keep = (t_day >= lo) & (t_day < w.end) & (t_pol >= 0)
        t_pol, t_day, cat = t_pol[keep], t_day[keep], cat[keep]
        order = np.lexsort((t_pol, t_day))
        t_pol, t_day, cat = t_pol[order], t_day[order], cat[order]
        n = len(t_pol)
        caller = hp[t_pol].copy()
        rel = (rng.random(n) < 0.15) & (p.partner[caller] >= 0)
        caller[rel] = p.partner[caller[rel]]
        opened = t_day * MS_DAY + tod(rng, n, 8, 21)
        first = opened + (rng.exponential(2.0, n) * MS_HOUR).astype(np.int64)
        complaint = cat == "complaint"
        resolved = first + (rng.exponential(np.where(complaint, 4.0, 1.0), n) * MS_DAY).astype(np.int64)
        resolved = np.where(rng.random(n) < 0.08, -1, resolved)
        first = np.where(rng.random(n) < 0.03, -1, first)
        resolved = np.where(first < 0, -1, resolved)
        rec, stage, ts = stage_rows(np.stack([opened, first, resolved], axis=1), self.end_ms)
        has_mobile = rng.random(n) < 0.8
        has_policy = rng.random(n) < np.where(cat == "surrender_request", 0.9, 0.65)
        anonymous = rng.random(n) < 0.05
        has_mobile &= ~anonymous
        has_policy &= ~anonymous
        mobile = self.render.mobile(rng, caller, t_day, allow_missing=False)
        mobile = s_arr(mobile, ~has_mobile)
        name = s_arr(self.render.name(rng, caller), rng.random(n) < 0.3)
        sat = np.where(complaint, rng.choice(5, n, p=[0.35, 0.3, 0.2, 0.1, 0.05]), rng.choice(5, n, p=[0.03, 0.05, 0.15, 0.37, 0.4])) + 1
        summary = np.empty(n, dtype=object)
        for c, texts in TICKET_SUMMARIES.items():
            rows = cat == c
            summary[rows] = pick(rng, texts, rows.sum())
        summary[rng.random(n) < 0.2] = None
        ra = pa.array(rec)
        first_v = first[rec]
        res_v = resolved[rec]
        cols = {
            "ticket_id": codes("TK", n)[rec],
            "caller_mobile": mobile.take(ra),
            "caller_name": name.take(ra),
            "policy_no": s_arr(pol.policy_no[t_pol][rec], ~has_policy[rec]),
            "channel": pick(rng, ["phone", "online_chat", "app", "branch"], n, [0.6, 0.2, 0.15, 0.05])[rec],
            "category": cat[rec],
            "priority": np.where(rng.random(n) < np.where(complaint, 0.3, 0.05), "urgent", "normal")[rec],
            "opened_at": t_arr(opened[rec]),
            "first_response_at": t_arr(np.maximum(first_v, 0), (stage < 1) | (first_v < 0)),
            "resolved_at": t_arr(np.maximum(res_v, 0), (stage < 2) | (res_v < 0)),
            "satisfaction": i_arr(sat[rec], (stage < 2) | (rng.random(n) < 0.4)[rec]),
            "summary": s_arr(summary[rec].astype(str), np.equal(summary[rec], None)),
        }
        return with_meta(cols, ts // MS_DAY, rec, ts, caller=caller[rec])

    def call_center__privacy_requests(self) -> pa.Table:
        rng = self.rng("privacy")
        p, w = self.people, self.window
        lo = w.months_back(HISTORY_MONTHS["privacy"])
        adults = np.nonzero(p.age_at(w.start) >= 18)[0]
        n = rng.binomial(len(adults), 0.002 * (w.end - lo) / 365.25)
        person = adults[rng.integers(0, len(adults), n)]
        day = np.sort(lo + (rng.random(n) * (w.end - lo)).astype(np.int64))
        ts = day * MS_DAY + tod(rng, n, 8, 22)
        has_id = rng.random(n) < 0.6
        has_mob = (rng.random(n) < 0.7) | ~has_id
        cols = {
            "request_id": codes("PR", n, width=8),
            "id_no": s_arr(self.render.id_no(rng, person), ~has_id),
            "mobile": s_arr(self.render.mobile(rng, person, day, allow_missing=False), ~has_mob),
            "name": s_arr(self.render.name(rng, person), rng.random(n) < 0.2),
            "request_type": pick(rng, ["erasure", "access", "restrict_marketing"], n, [0.3, 0.5, 0.2]),
            "received_at": t_arr(ts),
        }
        return with_meta(cols, day, np.arange(n), ts, requester=person)

    # app_events ------------------------------------------------------------------------------
    @cached_property
    def _app_accounts(self):
        """(person, registration day, daily event rate) per app account, by registration."""
        rng = self.rng("app_users")
        p, w = self.people, self.window
        users = np.nonzero(self.app_user)[0]
        second = users[rng.random(len(users)) < 0.08]
        person = np.concatenate([users, second])
        n = len(person)
        reg = w.end - 1 - (4 * 365 * rng.random(n) ** 1.3).astype(np.int64)
        reg = np.maximum(reg, p.birth[person] + 18 * 365)
        order = np.argsort(reg, kind="stable")
        person, reg = person[order], reg[order]
        rate = rng.gamma(0.8, 0.6, n)
        return person, reg, rate

    def app_events__users(self) -> pa.Table:
        rng = self.rng("app_users_rows")
        p = self.people
        person, reg, _ = self._app_accounts
        n = len(person)
        reg_ms = reg * MS_DAY + tod(rng, n, 7, 23)
        verified = np.where(rng.random(n) < 0.6, reg_ms + (rng.exponential(60, n) * MS_DAY).astype(np.int64), -1)
        change = p.mobile_change[person]
        moved = np.where((change > reg) & (change < BIG), change * MS_DAY + tod(rng, n, 8, 22), -1)
        rec, stage, ts = stage_rows(np.stack([reg_ms, verified, moved], axis=1), self.end_ms)
        is_verified = (verified[rec] >= 0) & (verified[rec] <= ts)
        mobile_day = ts // MS_DAY
        mobile = self.render.mobile(rng, person[rec], mobile_day, allow_missing=False)
        name = self.render.name(rng, person)
        idno = self.render.id_no(rng, person, missing_extra=0.1)
        ra = pa.array(rec)
        cols = {
            "user_id": codes("U", n, width=9)[rec],
            "mobile": mobile,
            "real_name": s_arr(name.take(ra), ~is_verified),
            "id_no": s_arr(idno.take(ra), ~is_verified),
            "registered_at": t_arr(reg_ms[rec]),
            "updated_at": t_arr(ts),
        }
        return with_meta(cols, ts // MS_DAY, rec, ts, app_user=person[rec])

    def app_events__events(self) -> pa.Table:
        rng = self.rng("app_events")
        w = self.window
        person, reg, rate = self._app_accounts
        n_users = len(person)
        user_ids = codes("U", n_users, width=9)
        device = random_tokens(rng, n_users, 12, "0123456789abcdef")
        names = np.array(["app_open", "page_view", "quote_start", "quote_submit", "policy_view", "claim_start",
                          "benefit_click", "renewal_view", "checkup_view"])
        probs = np.array([0.3, 0.35, 0.06, 0.02, 0.1, 0.01, 0.06, 0.05, 0.05])
        pages = np.array([None, "/home", "/quote", "/quote/confirm", "/policy/detail", "/claim/new", "/benefits",
                          "/renewal", "/benefits/checkup"], dtype=object)
        props = np.array([None, '{"os":"ios","app_ver":"5.3.0"}', '{"os":"android","app_ver":"5.2.8"}',
                          '{"channel":"mini_program"}', '{"os":"android","app_ver":"5.3.0","push":true}'], dtype=object)
        u_list, d_list = [], []
        for day in range(w.end - APP_EVENT_HISTORY_DAYS, w.end):
            live = reg <= day
            s = self.stress.at(person, np.full(n_users, day))
            lam = np.where(live, rate * np.exp(-0.8 * np.maximum(s, -1.0)), 0)
            k = rng.poisson(lam)
            u = np.repeat(np.arange(n_users), k)
            u_list.append(u)
            d_list.append(np.full(len(u), day))
        u = np.concatenate(u_list)
        day = np.concatenate(d_list)
        m = len(u)
        ts = day * MS_DAY + np.clip(rng.normal(19.5, 3.5, m), 0, 23.99).__mul__(MS_HOUR).astype(np.int64) + rng.integers(0, 1000, m)
        anon = rng.random(m) < 0.08
        ename = rng.choice(len(names), m, p=probs)
        order = np.argsort(ts, kind="stable")
        u, day, ts, anon, ename = u[order], day[order], ts[order], anon[order], ename[order]
        anon_devices = pa.array(random_tokens(rng, max(1, n_users // 4), 12, "0123456789abcdef"))
        anon_pick = pa.array(rng.integers(0, len(anon_devices), m))
        ua = pa.array(u)
        cols = {
            "event_id": arrow_codes("E", m, width=12),
            "user_id": s_arr(pa.array(user_ids).take(ua), anon),
            "device_id": pc.if_else(pa.array(anon), anon_devices.take(anon_pick), pa.array(device).take(ua)),
            "event_time": t_arr(ts),
            "event_name": pa.array(names).take(pa.array(ename)),
            "page": pa.array(pages.tolist(), pa.string()).take(pa.array(ename)),
            "props": pa.array(props.tolist(), pa.string()).take(pa.array(rng.integers(0, len(props), m))),
        }
        return with_meta(cols, day, np.arange(m), ts)

    # bank_core -------------------------------------------------------------------------------
    @cached_property
    def _bank_customers(self):
        """(party, open day, wealth class) per CIF, by open day."""
        rng = self.rng("bank")
        p, w = self.people, self.window
        persons = np.nonzero(self.bank_customer)[0]
        dup = persons[rng.random(len(persons)) < 0.05]
        ents = np.nonzero(rng.random(self.ent.n) < 0.25)[0]
        party = np.concatenate([persons, dup, self.party_of_enterprise(ents)])
        opened = w.end - 1 - (15 * 365 * rng.random(len(party))).astype(np.int64)
        is_person = party < p.n
        opened = np.where(is_person, np.maximum(opened, p.birth[np.minimum(party, p.n - 1)] + 18 * 365), opened)
        opened = np.minimum(opened, w.end - 1)
        order = np.argsort(opened, kind="stable")
        party, opened = party[order], opened[order]
        wealth = rng.choice(4, len(party), p=[0.55, 0.3, 0.12, 0.03])
        return party, opened, wealth

    def bank_core__customers(self) -> pa.Table:
        rng = self.rng("bank_rows")
        p, w = self.people, self.window
        party, opened, wealth = self._bank_customers
        n = len(party)
        is_person = party < p.n
        person = np.minimum(party, p.n - 1)
        ent = np.maximum(party - p.n, 0)
        open_ms = opened * MS_DAY + tod(rng, n, 9, 17)
        band_change = np.where(rng.random(n) < 0.25, (w.end - rng.integers(1, 400, n)) * MS_DAY + tod(rng, n, 1, 4), -1)
        band_change = np.where(band_change > open_ms, band_change, -1)
        change = p.mobile_change[person]
        moved = np.where(is_person & (change > opened) & (change < BIG) & (rng.random(n) < 0.5),
                         change * MS_DAY + MS_DAY + tod(rng, n, 1, 4), -1)
        rec, stage, ts = stage_rows(np.stack([open_ms, band_change, moved], axis=1), self.end_ms)
        band_now = np.clip(wealth + np.where(rng.random(n) < 0.5, 1, -1), 0, 3)
        changed = (band_change[rec] >= 0) & (band_change[rec] <= ts)
        band = np.array(["A", "B", "C", "D"])[np.where(changed, band_now[rec], wealth[rec])]
        pinyin = is_person & ((rng.random(n) < 0.15) | (p.doc_type[person] == "02"))
        name = self.render.name(rng, person, traditional=p.hkmo[person], pinyin=pinyin)
        name = pa.compute.if_else(pa.array(is_person), name, pa.array(self.ent.name[ent]))
        idno = self.render.id_no(rng, person, missing_extra=0.02)
        idno = pa.compute.if_else(pa.array(is_person), idno, pa.array(self.ent.uscc[ent]))
        id_type = np.where(is_person, p.doc_type[person], "07")
        mobile_day = ts // MS_DAY
        mobile = s_arr(self.render.mobile(rng, person[rec], mobile_day), None)
        ent_mob = pa.array(self.ent.mobile[ent[rec]], pa.string())
        mobile = pa.compute.if_else(pa.array(is_person[rec]), mobile, ent_mob)
        ra = pa.array(rec)
        cols = {
            "cif_no": codes("C", n)[rec],
            "name": name.take(ra),
            "id_type": id_type[rec],
            "id_no": idno.take(ra),
            "mobile": mobile,
            "birth_date": d_arr(p.birth[person][rec], (~is_person | (rng.random(n) < 0.05))[rec]),
            "branch_code": W.fmt_codes("BK", 1000 + (person * 7 + ent) % 60, 4)[rec],
            "aum_band": band,
            "open_date": d_arr(opened[rec]),
            "updated_at": t_arr(ts),
        }
        return with_meta(cols, ts // MS_DAY, rec, ts, bank_customer=party[rec])

    def bank_core__monthly_balances(self) -> pa.Table:
        rng = self.rng("balances")
        p, w = self.people, self.window
        party, opened, wealth = self._bank_customers
        n = len(party)
        ids = codes("C", n)
        m_first = int(month_of(w.start)) - HISTORY_MONTHS["balances"]
        m_last = int(month_of(w.end - 1))
        level = np.array([2e4, 1.5e5, 1.2e6, 5e6])[wealth] * rng.lognormal(0, 0.4, n)
        rows = []
        for mm in range(m_first, m_last + 1):
            deliver = int(month_start(mm + 1)) + 2  # the 3rd of the next month
            if deliver >= w.end:
                continue
            live = np.nonzero(opened < int(month_start(mm + 1)))[0]
            person = np.minimum(party[live], p.n - 1)
            s = np.where(party[live] < p.n, self.stress.at(person, np.full(len(live), int(month_start(mm)))), 0.0)
            bal = level[live] * np.exp(-0.25 * np.maximum(s, 0)) * rng.lognormal(0, 0.1, len(live))
            inflow = bal * rng.uniform(0.02, 0.2, len(live))
            outflow = inflow * rng.uniform(0.7, 1.3, len(live)) * np.exp(0.1 * np.maximum(s, 0))
            rows.append((live, np.full(len(live), mm), np.round(bal, 2), np.round(inflow, 2), np.round(outflow, 2),
                         np.full(len(live), deliver)))
        if rows:
            live, mm, bal, inflow, outflow, deliver = (np.concatenate(x) for x in zip(*rows))
        else:
            live = mm = deliver = np.zeros(0, np.int64)
            bal = inflow = outflow = np.zeros(0)
        cols = {
            "cif_no": ids[live],
            "month": d_arr(month_start(mm)),
            "avg_balance": f_arr(bal),
            "inflow": f_arr(inflow),
            "outflow": f_arr(outflow),
        }
        return with_meta(cols, deliver, np.arange(len(live)), deliver * MS_DAY)

    # marketing -------------------------------------------------------------------------------
    def _marketing_audience(self) -> np.ndarray:
        p = self.people
        aud = (self.holder_any | self.lead_prospect | self.app_user) & (p.age_at(self.window.start) >= 18)
        return np.nonzero(aud)[0]

    def marketing__touches(self) -> pa.Table:
        rng = self.rng("touches")
        pol, w, life = self.pol, self.window, self.life
        lo = w.months_back(HISTORY_MONTHS["touches"])
        aud = self._marketing_audience()
        cnt = rng.poisson(1.0 * (w.end - lo) / 30.4, len(aud))
        idx, _ = expand(cnt)
        person = aud[idx]
        day = lo + (rng.random(len(person)) * (w.end - lo)).astype(np.int64)
        channel = pick(rng, ["sms", "push", "wechat", "email", "outbound_call"], len(person), [0.4, 0.2, 0.2, 0.1, 0.1])
        # renewal reminders 60 days before an anniversary
        r_sel = pol.holder[life.ann_policy] >= 0
        r_pol = life.ann_policy[r_sel]
        r_day = life.ann_day[r_sel] - 60
        person = np.concatenate([person, pol.holder[r_pol]])
        day = np.concatenate([day, r_day])
        channel = np.concatenate([channel, np.full(len(r_pol), "sms")])
        t_pol = np.concatenate([np.full(len(idx), -1), r_pol])
        keep = (day >= lo) & (day < w.end)
        person, day, channel, t_pol = person[keep], day[keep], channel[keep], t_pol[keep]
        n = len(person)
        sent = day * MS_DAY + tod(rng, n, 9, 20)
        delivered = rng.random(n) < 0.92
        p_open = np.select([channel == "sms", channel == "push", channel == "wechat", channel == "email"], [0.2, 0.3, 0.4, 0.15], 0.6)
        opened = np.where(delivered & (rng.random(n) < p_open), sent + (rng.exponential(3, n) * MS_HOUR).astype(np.int64), -1)
        clicked = np.where((opened >= 0) & (rng.random(n) < 0.3), opened + (rng.exponential(0.2, n) * MS_HOUR).astype(np.int64), -1)
        last = np.maximum(sent, np.maximum(opened, clicked))
        keep = last < self.end_ms
        order = np.argsort(sent[keep], kind="stable")
        sel = np.nonzero(keep)[0][order]
        person, day, channel, t_pol, sent, delivered, opened, clicked, last = (
            a[sel] for a in (person, day, channel, t_pol, sent, delivered, opened, clicked, last))
        n = len(person)
        # the holder's policy a touch is about (renewal reminders always, others sometimes)
        first_pol = np.full(self.people.n, -1)
        hold = pol.holder >= 0
        first_pol[pol.holder[hold][::-1]] = np.nonzero(hold)[0][::-1]
        about = np.where(t_pol >= 0, t_pol, np.where(rng.random(n) < 0.4, first_pol[person], -1))
        converted = (clicked >= 0) & (rng.random(n) < 0.05) & (first_pol[person] >= 0)
        campaign = np.char.add("CMP", (month_of(day) * 100 + rng.integers(1, 20, n)).astype(str))
        campaign = np.where(t_pol >= 0, np.char.add("RNW", month_of(day).astype(str)), campaign)
        mobile_need = np.isin(channel, ["sms", "outbound_call", "wechat"])
        mobile = s_arr(self.render.mobile(rng, person, day), ~mobile_need & (rng.random(n) < 0.5))
        cols = {
            "touch_id": codes("TC", n, width=11),
            "campaign_id": campaign,
            "channel": channel,
            "mobile": mobile,
            "policy_no": s_arr(pol.policy_no[np.maximum(about, 0)], about < 0),
            "sent_at": t_arr(sent),
            "delivered": np.where(delivered, "1", "0"),
            "opened_at": t_arr(np.maximum(opened, 0), opened < 0),
            "clicked_at": t_arr(np.maximum(clicked, 0), clicked < 0),
            "converted_policy_no": s_arr(pol.policy_no[np.maximum(first_pol[person], 0)], ~converted),
        }
        return with_meta(cols, last // MS_DAY, np.arange(n), sent)

    def marketing__consents(self) -> pa.Table:
        rng = self.rng("consents")
        w = self.window
        aud = self._marketing_audience()
        k = rng.integers(1, 3, len(aud))
        idx, rank = expand(k)
        person = aud[idx]
        n = len(person)
        channel = np.array(["sms", "push", "wechat", "email", "outbound_call"])[(idx + rank * 2) % 5]
        first = w.end - 1 - (3 * 365 * rng.random(n)).astype(np.int64)
        s = self.stress.at(person, np.full(n, w.start))
        out = np.where(rng.random(n) < 0.06 + 0.1 * W.sigmoid(s - 1.5), first + rng.integers(1, 400, n), BIG)
        p_all = np.concatenate([person, person[out < w.end]])
        d_all = np.concatenate([first, out[out < w.end]])
        c_all = np.concatenate([channel, channel[out < w.end]])
        consent = np.concatenate([np.full(n, "opt_in"), np.full((out < w.end).sum(), "opt_out")])
        order = np.argsort(d_all, kind="stable")
        p_all, d_all, c_all, consent = p_all[order], d_all[order], c_all[order], consent[order]
        m = len(p_all)
        ts = d_all * MS_DAY + tod(rng, m, 8, 22)
        cols = {
            "mobile": self.render.mobile(rng, p_all, d_all, allow_missing=False),
            "channel": c_all,
            "consent": consent,
            "recorded_at": t_arr(ts),
        }
        return with_meta(cols, d_all, np.arange(m), ts)

    # benefits --------------------------------------------------------------------------------
    def benefits__service_usage(self) -> pa.Table:
        rng = self.rng("benefits")
        pol, w = self.pol, self.window
        lo = w.months_back(HISTORY_MONTHS["usage"])
        elig = np.nonzero(np.isin(pol.product, [i for i, pr in enumerate(PRODUCTS) if pr.code in ("HLT02", "CI01", "LIF02", "ANN01", "GRP01")])
                          & (pol.end > lo))[0]
        start = np.maximum(pol.effective[elig], lo)
        stop = np.minimum(pol.end[elig], w.end)
        s = self.stress.at(self.holder_person()[elig], np.full(len(elig), w.start))
        cnt = rng.poisson(np.maximum(0, stop - start) / 365.25 * 0.6 * np.exp(-0.4 * s))
        idx, _ = expand(cnt)
        pidx = elig[idx]
        day = start[idx] + (rng.random(len(idx)) * (stop[idx] - start[idx])).astype(np.int64)
        order = np.argsort(day, kind="stable")
        pidx, day = pidx[order], day[order]
        n = len(pidx)
        ts = day * MS_DAY + tod(rng, n, 8, 19)
        user = pol.insured[pidx]
        stype = pick(rng, ["health_checkup", "second_opinion", "green_channel", "roadside", "dental", "elderly_care"], n,
                     [0.4, 0.1, 0.15, 0.05, 0.2, 0.1])
        has_pol = rng.random(n) < 0.85
        has_mob = (rng.random(n) < 0.7) | ~has_pol
        cols = {
            "usage_id": codes("SV", n),
            "policy_no": s_arr(pol.policy_no[pidx], ~has_pol),
            "mobile": s_arr(self.render.mobile(rng, user, day, allow_missing=False), ~has_mob),
            "service_type": stype,
            "used_at": t_arr(ts),
            "cost": f_arr(np.round(np.where(rng.random(n) < 0.3, 0, rng.lognormal(5.5, 0.8, n)), 2)),
        }
        return with_meta(cols, day, np.arange(n), ts)

    # scrm_wechat -----------------------------------------------------------------------------
    def scrm_wechat__contacts(self) -> pa.Table:
        rng = self.rng("scrm")
        pol, p, w = self.pol, self.people, self.window
        agent_pol = np.nonzero((pol.holder >= 0) & np.not_equal(pol.agent, None))[0]
        first = np.full(p.n, -1)
        first[pol.holder[agent_pol][::-1]] = agent_pol[::-1]
        persons = np.nonzero(self.wecom & (first >= 0))[0]
        prospects = np.nonzero(self.lead_prospect & (rng.random(p.n) < 0.2))[0]
        dup = persons[rng.random(len(persons)) < 0.07]
        person = np.concatenate([persons, prospects, dup])
        n = len(person)
        agent = np.where(first[person] >= 0, pol.agent[np.maximum(first[person], 0)], None)
        rand_agent = W.fmt_codes("A", 100000 + rng.integers(0, max(5, p.n // 150), n), 6).astype(object)
        agent = np.where(np.equal(agent, None) | (np.arange(n) >= len(persons) + len(prospects)), rand_agent, agent)
        added = np.where(first[person] >= 0, np.maximum(pol.issue[np.maximum(first[person], 0)], w.end - 4 * 365), w.end - 4 * 365)
        added = added + (rng.random(n) * (w.end - added)).astype(np.int64)
        added_ms = added * MS_DAY + tod(rng, n, 9, 22)
        # refreshes: the CRM re-syncs a contact about every 20 days; deletes rise with stress
        lo = self.h0
        refresh_n = rng.poisson(np.maximum(0, w.end - np.maximum(added, w.end - 90)) / 20)
        r_idx, _ = expand(refresh_n)
        r_lo = np.maximum(added[r_idx], w.end - 90)
        r_day = r_lo + (rng.random(len(r_idx)) * (w.end - r_lo)).astype(np.int64)
        del_day = np.full(n, BIG, dtype=np.int64)
        for mm in range(int(month_of(lo)), int(month_of(w.end - 1)) + 1):
            day0 = int(month_start(mm))
            cand = np.nonzero((del_day == BIG) & (added < day0))[0]
            s = self.stress.s[person[cand], mm - self.stress.m0].astype(np.float64)
            hit = cand[rng.random(len(cand)) < W.sigmoid(-6.5 + 1.3 * s)]
            del_day[hit] = day0 + rng.integers(0, 28, len(hit))
        rec = np.concatenate([np.arange(n), r_idx, np.nonzero(del_day < w.end)[0]])
        kind = np.concatenate([np.zeros(n), np.ones(len(r_idx)), np.full((del_day < w.end).sum(), 2)]).astype(np.int8)
        day = np.concatenate([added, r_day, del_day[del_day < w.end]])
        ts = np.where(kind == 0, added_ms[rec], day * MS_DAY + tod(rng, len(rec), 1, 23))
        alive = (ts < del_day[rec] * MS_DAY) | (kind == 2)
        rec, kind, day, ts = rec[alive], kind[alive], day[alive], ts[alive]
        order = np.lexsort((ts, rec))
        rec, kind, day, ts = rec[order], kind[order], day[order], ts[order]
        firstv = np.r_[True, rec[1:] != rec[:-1]]
        op = np.where(kind == 2, "D", np.where(firstv, "I", "U"))
        s_now = self.stress.at(person[rec], day)
        msgs = rng.poisson(6 * np.exp(-0.8 * np.maximum(s_now, -1.0)))
        # a tombstone carries the last full image: its message count is the previous version's
        prev_msgs = np.r_[msgs[:1], msgs[:-1]]
        msgs = np.where(kind == 2, prev_msgs, msgs)
        last_msg = np.where(msgs > 0, ts - (rng.random(len(rec)) * 10 * MS_DAY).astype(np.int64), -1)
        last_msg = np.maximum(last_msg, np.where(msgs > 0, added_ms[rec], -1))
        v = self.render.vocab
        unionid = np.char.add("o", random_tokens(rng, p.n, 27, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"))
        has_union = rng.random(n) < 0.45
        nick = pick(rng, NICKNAMES, n).astype(object)
        real = rng.random(n) < 0.2
        name_arr = self.render.name(rng, person)
        nick_arr = pa.compute.if_else(pa.array(real), name_arr, pa.array(nick.astype(str)))
        tags = pick(rng, ["重疾客户", "老客户", "转介绍", "意向高", "宝妈", "车险到期"], n)
        remark_mobile = self.render.mobile(rng, person, added, allow_missing=False)
        remark = pa.compute.binary_join_element_wise(self.render.name(rng, person), remark_mobile, pa.array(tags), " ")
        remark = s_arr(remark, rng.random(n) < 0.5)
        del v
        ra = pa.array(rec)
        cols = {
            "external_userid": np.char.add("wm", random_tokens(rng, n, 30, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))[rec],
            "op": op,
            "unionid": s_arr(unionid[person][rec], ~has_union[rec]),
            "nickname": nick_arr.take(ra),
            "remark": remark.take(ra),
            "agent_code": agent[rec].astype(str),
            "added_at": t_arr(added_ms[rec]),
            "last_message_at": t_arr(np.maximum(last_msg, 0), last_msg < 0),
            "messages_30d": i_arr(msgs),
            "updated_at": t_arr(ts),
        }
        return with_meta(cols, day, rec, ts, wecom_contact=person[rec])

    # external_data ---------------------------------------------------------------------------
    # The insurer's systems that hold a person's resident ID: (entity, ID column, person role).
    ID_SOURCES = (
        ("policy_admin__policies", "holder_id_no", "holder"), ("policy_admin__policies", "insured_id_no", "insured"),
        ("agent_crm__leads", "id_no", "lead"), ("underwriting__uw_cases", "applicant_id_no", "applicant"),
        ("claims__claims", "claimant_id_no", "claimant"), ("call_center__privacy_requests", "id_no", "requester"),
        ("app_events__users", "id_no", "app_user"), ("bank_core__customers", "id_no", "bank_customer"),
    )

    def note_ids_held(self, entity: str, table: pa.Table) -> None:
        """Remember which persons' IDs `entity` holds (any delivered form but a placeholder)."""
        if not hasattr(self, "_ids_held"):
            self._ids_held: dict[str, np.ndarray] = {}
        if entity not in {e for e, _, _ in self.ID_SOURCES}:
            return
        held = np.zeros(self.people.n, bool)
        for ent, column, role in self.ID_SOURCES:
            if ent != entity:
                continue
            ids, party = table.column(column), table.column(f"_party_{role}").to_numpy()
            usable = pc.fill_null(pc.and_(pc.is_valid(ids), pc.not_equal(ids, ident.JUNK_ID)), False).to_numpy(
                zero_copy_only=False)
            person = party[usable]
            held[person[(person >= 0) & (person < self.people.n)]] = True
        self._ids_held[entity] = held

    def ids_held(self) -> np.ndarray:
        """Persons whose resident ID some system of the insurer holds (in some version of a record)."""
        held = np.zeros(self.people.n, bool)
        for entity in dict.fromkeys(e for e, _, _ in self.ID_SOURCES):
            if entity not in getattr(self, "_ids_held", {}):
                self.note_ids_held(entity, getattr(self, entity)())
            held |= self._ids_held[entity]
        return held

    def external_data__risk_bands(self) -> pa.Table:
        """Bands are licensed per subject: the insurer submits the IDs it holds (any system,
        any version) and the vendor returns bands for about half of them (adults with a resident
        ID); the vendor hashes the canonical ID, 1% a mistyped one."""
        rng = self.rng("bands")
        p, w = self.people, self.window
        subj = np.nonzero((p.doc_type == "01") & (p.age_at(w.start) >= 20) & (rng.random(p.n) < 0.5) & self.ids_held())[0]
        ns = len(subj)
        mistyped = rng.random(ns) < 0.01
        canon = np.where(mistyped, p.id_bad[subj], p.doc_no[subj].astype("U18"))
        self.con.register("_canon", pa.table({"id": pa.array(canon, pa.string())}))
        digest = self.con.sql("SELECT sha256(id) AS h FROM _canon").to_arrow_table().column(0).combine_chunks()
        self.con.unregister("_canon")
        income = np.clip(np.round(rng.normal(3, 1, ns)), 1, 5).astype(np.int64)
        age = p.age_at(w.start)[subj]
        rows = []
        m_first = int(month_of(w.start)) - HISTORY_MONTHS["bands"]
        for mm in range(m_first, int(month_of(w.end - 1)) + 1):
            deliver = int(month_start(mm + 1)) + 4  # the 5th of the next month
            if deliver >= w.end:
                continue
            as_of = int(month_start(mm + 1)) - 1
            s = self.stress.at(subj, np.full(ns, as_of))
            credit = np.clip(np.round(1 + 0.9 * s + rng.normal(0, 0.7, ns)), 0, 4).astype(np.int64)
            health = np.clip(np.round((age - 30) / 20 + rng.normal(0, 0.6, ns)), 0, 2).astype(np.int64)
            rows.append((np.arange(ns), credit, health, np.full(ns, as_of), np.full(ns, deliver)))
        if rows:
            sidx, credit, health, as_of, deliver = (np.concatenate(x) for x in zip(*rows))
        else:
            sidx = credit = health = as_of = deliver = np.zeros(0, np.int64)
        cols = {
            "id_no_sha256": digest.take(pa.array(sidx)),
            "credit_band": np.array(list("ABCDE"))[credit],
            "income_band": i_arr(income[sidx]),
            "health_risk_band": np.array(["low", "mid", "high"])[health],
            "as_of": d_arr(as_of),
        }
        return with_meta(cols, deliver, sidx, as_of * MS_DAY, bands_subject=subj[sidx])
