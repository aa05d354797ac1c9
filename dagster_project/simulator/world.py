"""The true world behind the twelve systems: people, households, enterprises, policies and
the churn process. Everything is a numpy array over all people / policies (no per-record loops).

Churn model (documented in the package docstring): every person carries a monthly latent
*stress* ``s`` (AR(1) with a person baseline, hidden life shocks and jumps after rejected
claims). Stress drives the observable causes in the sources (failed payments, complaints,
surrender requests, falling app engagement, fewer WeCom messages, worse credit bands), and the
churn events follow from those causes:

- lapse (LA): a premium payment fails (P rises with stress) and its retry 7 days later fails too
  (P = 1 - CURE_P); it is overdue at +30 days and the policy lapses at +60 days;
- surrender (SU): the holder files a surrender_request ticket (P rises with stress, cash-value
  products); 60% surrender 45-80 days later, the others are retained;
- non-renewal (MA): 75 days before a one-year policy's anniversary a renewal notice is issued
  (sometimes with a premium increase, visible in policy_admin); P(not renewed) rises with stress,
  the increase, an orphaned policy (no agent) and the online channel; it ends at the anniversary.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from . import identity as ident
from .calendar import Window, add_months, add_years, month_of, month_start, yyyymmdd
from .vocab import CITIES, FREQ_MONTHS, HKMO_BRANCHES, PRODUCTS, name_vocab

# history depths (months before the start date) the initial load carries
SIGNAL_HISTORY_MONTHS = 24  # latent process, billing, churn events with precursors
POLICY_HISTORY_YEARS = 10
CURE_P = 0.5
SURRENDER_P = 0.6
LAPSE_GRACE_DAYS = 60


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rng_for(seed: int, name: str) -> np.random.Generator:
    """An independent stream per component, so one component's draws never shift another's."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


@dataclass
class People:
    n: int
    household: np.ndarray
    role: np.ndarray  # 0 head, 1 spouse, 2 child, 3 parent
    gender: np.ndarray  # 0 male, 1 female
    birth: np.ndarray  # epoch day
    surname: np.ndarray
    g1: np.ndarray
    g2: np.ndarray
    city: np.ndarray
    hkmo: np.ndarray
    doc_type: np.ndarray  # '01', '02', '03', '04'
    doc_no: np.ndarray  # true document number (18-char resident ID for '01')
    id15: np.ndarray  # legacy 15-digit form ('' when none)
    id_bad: np.ndarray  # a mistyped form of the resident ID
    mobile_a: np.ndarray
    mobile_b: np.ndarray
    mobile_change: np.ndarray  # epoch day the person switches from mobile_a to mobile_b
    partner: np.ndarray  # person index or -1
    kid: np.ndarray  # first child's index or -1
    kid2: np.ndarray
    parent: np.ndarray
    head: np.ndarray
    twin: np.ndarray  # bool: person is one of a pair of twins

    def age_at(self, day) -> np.ndarray:
        return (np.asarray(day) - self.birth) / 365.25

    def mobile_at(self, idx, day) -> np.ndarray:
        idx = np.asarray(idx)
        return np.where(np.asarray(day) >= self.mobile_change[idx], self.mobile_b[idx], self.mobile_a[idx])


@dataclass
class Enterprises:
    n: int
    name: np.ndarray
    uscc: np.ndarray
    city: np.ndarray
    start: np.ndarray  # epoch day the group contract began (anniversary)
    mobile: np.ndarray  # HR contact


@dataclass
class Policies:
    """One row per policy_no (individual and group)."""

    n: int
    policy_no: np.ndarray
    holder: np.ndarray  # person index, or -1 for group (enterprise holder)
    enterprise: np.ndarray  # enterprise index or -1
    insured: np.ndarray
    relation: np.ndarray  # self/spouse/child/parent/employee
    product: np.ndarray  # index into PRODUCTS
    channel: np.ndarray
    branch: np.ndarray
    agent: np.ndarray  # agent code or None
    issue: np.ndarray
    effective: np.ndarray
    freq: np.ndarray  # index into PAYMENT_FREQS
    premium: np.ndarray  # premium at issue
    term_end: np.ndarray  # natural expiry (epoch day) for term products; -1 none
    # lifecycle (filled by Lifecycle)
    end: np.ndarray | None = None  # epoch day the policy ended, or BIG
    end_status: np.ndarray | None = None  # '', LA, SU, MA, CL
    end_cause: np.ndarray | None = None  # '', cancel, maturity, non_renewal, lapse, surrender

    @property
    def renew1y(self) -> np.ndarray:
        return np.array([p.term == "renew1y" for p in PRODUCTS])[self.product]

    @property
    def cash_value(self) -> np.ndarray:
        return np.array([p.cash_value for p in PRODUCTS])[self.product]

    @property
    def line(self) -> np.ndarray:
        return np.array([p.line for p in PRODUCTS])[self.product]

    @property
    def individual(self) -> np.ndarray:
        return self.enterprise < 0


BIG = np.int64(10**7)


def fmt_codes(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """prefix + zero-padded numbers, built as one byte matrix."""
    numbers = np.asarray(numbers)
    pre = np.frombuffer(prefix.encode(), dtype=np.uint8)
    head = np.broadcast_to(pre, (len(numbers), len(pre)))
    return ident._to_str(np.concatenate([head, ident._digits(numbers, width) + 48], axis=1))


def build_people(seed: int, n: int, window: Window) -> People:
    rng = rng_for(seed, "people")
    vocab = name_vocab()
    hn = n // 2 + 16
    htype = rng.choice(5, hn, p=[0.25, 0.22, 0.33, 0.12, 0.08])  # single, couple, +kids, +kids+parent, single parent
    n_adult = np.where(np.isin(htype, [0, 4]), 1, 2)
    n_kids = np.where(np.isin(htype, [2, 3]), rng.integers(1, 3, hn), np.where(htype == 4, 1, 0))
    has_parent = (htype == 3).astype(np.int64)
    size = n_adult + n_kids + has_parent
    ends = np.cumsum(size)
    starts = ends - size
    hn = int(np.searchsorted(ends, n) + 1)
    n_adult, n_kids, has_parent, size, starts = n_adult[:hn], n_kids[:hn], has_parent[:hn], size[:hn], starts[:hn]
    hh = np.repeat(np.arange(hn), size)[:n]
    pos = np.arange(n) - starts[hh]
    role = np.full(n, 2)
    role[pos == 0] = 0
    role[(pos == 1) & (n_adult[hh] == 2)] = 1
    role[pos >= n_adult[hh] + n_kids[hh]] = 3

    def member(offset, exists):
        idx = np.where(exists, starts + offset, -1)
        idx[idx >= n] = -1
        return idx

    head_h = member(0, np.ones(hn, bool))
    partner_h = member(1, n_adult == 2)
    kid_h = member(n_adult, n_kids >= 1)
    kid2_h = member(n_adult + 1, n_kids >= 2)
    parent_h = member(n_adult + n_kids, has_parent == 1)

    head_age = 24 + 44 * rng.beta(1.6, 1.6, hn)
    age = np.empty(n)
    age[:] = head_age[hh]
    sp = role == 1
    age[sp] = np.clip(head_age[hh[sp]] + rng.normal(0, 3, sp.sum()), 20, 90)
    kd = role == 2
    age[kd] = np.clip(head_age[hh[kd]] - rng.uniform(22, 36, kd.sum()), 0.1, None)
    pa_ = role == 3
    age[pa_] = np.clip(head_age[hh[pa_]] + rng.uniform(22, 34, pa_.sum()), 45, 96)
    birth = (window.start - age * 365.25).astype(np.int64)
    # twins: the household's two children share a birth date
    twin_h = (kid2_h >= 0) & (rng.random(hn) < 0.05)
    birth[kid2_h[twin_h]] = birth[kid_h[twin_h]]
    twin = np.zeros(n, bool)
    twin[kid_h[twin_h]] = True
    twin[kid2_h[twin_h]] = True

    gender = (rng.random(n) < 0.47).astype(np.int64)
    head_gender = gender[head_h]
    has_p = partner_h >= 0
    gender[partner_h[has_p]] = 1 - head_gender[has_p]
    surname = rng.choice(len(vocab.surname), n, p=vocab.surname_p)
    father_h = np.where(head_gender == 0, head_h, np.where(has_p, partner_h, head_h))
    surname[kd] = surname[father_h[hh[kd]]]
    male_parent = pa_ & (gender == 0)
    surname[male_parent] = surname[head_h[hh[male_parent]]]

    def given_for(g, size_):
        male = vocab.given_male[rng.integers(0, len(vocab.given_male), size_)]
        female = vocab.given_female[rng.integers(0, len(vocab.given_female), size_)]
        return np.where(g == 0, male, female)

    g1 = given_for(gender, n)
    g2 = np.where(rng.random(n) < 0.68, given_for(gender, n), vocab.empty_given)
    # twins share the first given character and both have two
    g1[kid2_h[twin_h]] = g1[kid_h[twin_h]]
    g2[kid2_h[twin_h]] = np.where(g2[kid2_h[twin_h]] == vocab.empty_given, g1[kid_h[twin_h]], g2[kid2_h[twin_h]])
    g2[kid_h[twin_h]] = np.where(g2[kid_h[twin_h]] == g2[kid2_h[twin_h]], vocab.homophone[g2[kid_h[twin_h]]], g2[kid_h[twin_h]])
    # very common names shared by many distinct people
    common = np.array(vocab.common)
    pick = (rng.random(n) < 0.03) & ~twin
    for gval in (0, 1):
        rows = np.nonzero(pick & (gender == gval))[0]
        pool = common[common[:, 3] == gval]
        chosen = pool[rng.integers(0, len(pool), len(rows))]
        surname[rows], g1[rows], g2[rows] = chosen[:, 0], chosen[:, 1], chosen[:, 2]

    city_w = np.array([c[3] for c in CITIES])
    city_h = rng.choice(len(CITIES), hn, p=city_w / city_w.sum())
    city = city_h[hh]
    hkmo = np.isin(np.array([c[1] for c in CITIES])[city], HKMO_BRANCHES)
    born_city = np.where((rng.random(n) < 0.2) & ~hkmo, rng.choice(len(CITIES) - 2, n), city)
    area = np.array([CITIES[c][2][0] for c in range(len(CITIES))])[born_city]
    area = area + np.where(area % 10000 == 0, 0, rng.integers(0, 3, n) * 0)  # keep the city's first district
    district_pick = rng.integers(0, 5, n)
    areas_per_city = [np.array(c[2]) for c in CITIES]
    for ci, codes in enumerate(areas_per_city):
        rows = born_city == ci
        area[rows] = codes[district_pick[rows] % len(codes)]

    doc_type = np.full(n, "01", dtype="U2")
    doc_type[hkmo] = "03"
    other = ~hkmo & (rng.random(n) < 0.005)
    doc_type[other] = np.where(rng.random(other.sum()) < 0.6, "02", "04")
    seq = rng.integers(0, 500, n) * 2 + (gender == 0)  # odd 17th digit = male
    ymd = yyyymmdd(birth)
    for _ in range(50):  # the 17 body digits as one integer: distinct bodies, distinct IDs
        _, first = np.unique(area * 10**11 + ymd * 1000 + seq, return_index=True)
        dup = np.ones(n, bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 500, dup.sum()) * 2 + (gender[dup] == 0)
    id18, id15 = ident.make_resident_ids(area, ymd, seq)
    id_bad = ident.mistype_ids(rng, id18)
    doc_no = id18.astype(object)
    permit_no = rng.integers(10**7, 10**8, n)
    hk_letter = np.where(np.array([c[1] for c in CITIES])[city] == "MO01", "M", "H")
    doc_no[doc_type == "03"] = np.char.add(hk_letter, permit_no.astype("U8"))[doc_type == "03"]
    doc_no[doc_type == "02"] = np.char.add("E", permit_no.astype("U8"))[doc_type == "02"]
    doc_no[doc_type == "04"] = permit_no.astype("U8")[doc_type == "04"]
    id15 = np.where((ymd < 19830000) & (doc_type == "01"), id15, "")

    mob = ident.make_mobiles(rng, 2 * n)
    mobile_a = mob[:n].astype(object)
    mobile_b = mob[n:].astype(object)
    head_p = head_h[hh]
    minor = age < 18
    share = minor | ((role == 1) & (rng.random(n) < 0.12)) | ((role == 3) & (age > 70) & (rng.random(n) < 0.4))
    share &= head_p != np.arange(n)
    mobile_a[share] = mobile_a[head_p[share]]
    changes = ~share & ~minor & (rng.random(n) < 0.06)
    mobile_change = np.full(n, BIG, dtype=np.int64)
    lo = window.months_back(SIGNAL_HISTORY_MONTHS)
    mobile_change[changes] = rng.integers(lo, window.end, changes.sum())
    mobile_b[~changes] = mobile_a[~changes]
    # a shared mobile follows the owner's change
    owner_changed = share & changes[head_p]
    mobile_b[owner_changed] = mobile_b[head_p[owner_changed]]
    mobile_change[owner_changed] = mobile_change[head_p[owner_changed]]
    mobile_b[share & ~owner_changed] = mobile_a[share & ~owner_changed]

    return People(
        n=n, household=hh, role=role, gender=gender, birth=birth, surname=surname, g1=g1, g2=g2,
        city=city, hkmo=hkmo, doc_type=doc_type, doc_no=doc_no, id15=id15, id_bad=id_bad,
        mobile_a=mobile_a, mobile_b=mobile_b, mobile_change=mobile_change,
        partner=np.where(role == 0, partner_h[hh], np.where(role == 1, head_h[hh], -1)),
        kid=np.where(role <= 1, kid_h[hh], -1), kid2=np.where(role <= 1, kid2_h[hh], -1),
        parent=np.where(role == 0, parent_h[hh], -1), head=head_p, twin=twin,
    )


def build_enterprises(seed: int, people: People, window: Window) -> Enterprises:
    from .vocab import ENTERPRISE_INDUSTRY, ENTERPRISE_PREFIX, ENTERPRISE_SUFFIX

    rng = rng_for(seed, "enterprises")
    n = max(3, people.n // 400)
    city = rng.choice(len(CITIES) - 2, n)
    pre = np.array(ENTERPRISE_PREFIX)
    name = np.char.add(np.char.add(np.char.add(np.char.add(
        np.array([c[0] for c in CITIES])[city], pre[rng.integers(0, len(pre), n)]),
        pre[rng.integers(0, len(pre), n)]), np.array(ENTERPRISE_INDUSTRY)[rng.integers(0, len(ENTERPRISE_INDUSTRY), n)]),
        np.array(ENTERPRISE_SUFFIX)[rng.choice(3, n, p=[0.7, 0.2, 0.1])])
    area = np.array([CITIES[c][2][0] for c in city])
    uscc = ident.make_uscc(rng, area)
    start = window.start - rng.integers(30, 8 * 365, n)
    return Enterprises(n=n, name=name, uscc=uscc, city=city, start=start,
                       mobile=ident.make_mobiles(rng, n).astype(object))


def build_policies(seed: int, people: People, ent: Enterprises, window: Window) -> Policies:
    rng = rng_for(seed, "policies")
    n = people.n
    age_now = people.age_at(window.start)
    p_hold = np.select([people.role == 0, people.role == 1, people.role == 3], [0.55, 0.40, 0.12], 0.08)
    p_hold = np.where(age_now >= 22, p_hold, 0)
    holds = rng.random(n) < p_hold
    count = np.where(holds, 1 + rng.poisson(0.5, n), 0)
    holder = np.repeat(np.arange(n), count)
    m = len(holder)
    weights = np.array([p.weight for p in PRODUCTS])
    product = rng.choice(len(PRODUCTS), m, p=weights / weights.sum())
    rel = rng.choice(4, m, p=[0.60, 0.14, 0.17, 0.09])
    kid_pick = np.where(rng.random(m) < 0.5, people.kid[holder], np.where(people.kid2[holder] >= 0, people.kid2[holder], people.kid[holder]))
    target = np.select([rel == 1, rel == 2, rel == 3], [people.partner[holder], kid_pick, people.parent[holder]], holder)
    is_prop_or_ann = np.isin(product, [i for i, p in enumerate(PRODUCTS) if p.line in ("property", "annuity")])
    ok = (target >= 0) & ~(is_prop_or_ann & (rel >= 2))
    rel = np.where(ok, rel, 0)
    insured = np.where(ok, target, holder)
    relation = np.array(["self", "spouse", "child", "parent"])[rel]
    span = POLICY_HISTORY_YEARS * 365
    issue = window.end - 1 - (span * rng.random(m) ** 1.5).astype(np.int64)
    issue = np.maximum(issue, people.birth[holder] + 20 * 365)
    issue = np.maximum(issue, people.birth[insured] + 30)
    keep = issue < window.end
    holder, insured, product, relation, issue = holder[keep], insured[keep], product[keep], relation[keep], issue[keep]
    m = len(holder)
    channel = rng.choice(5, m, p=[0.55, 0.15, 0.18, 0.12, 0.0])
    line = np.array([p.line for p in PRODUCTS])[product]
    channel = np.where((channel == 1) & (line == "property"), 0, channel)
    branch_codes = np.array([c[1] for c in CITIES])
    branch = branch_codes[people.city[holder]]

    # group cover: one policy per insured employee, the enterprise the holder
    elig = (people.role <= 1) & (age_now >= 22) & (age_now <= 60) & ~people.hkmo
    employees = np.nonzero(elig & (rng.random(n) < 0.12))[0]
    size_w = 1.0 / np.arange(1, ent.n + 1) ** 0.8
    employer = rng.choice(ent.n, len(employees), p=size_w / size_w.sum())
    two = rng.random(len(employees)) < 0.3
    g_emp = np.concatenate([employees, employees[two]])
    g_ent = np.concatenate([employer, employer[two]])
    g_prod = np.concatenate([np.full(len(employees), 8), np.full(two.sum(), 9)])
    hire = window.end - 1 - rng.integers(0, 10 * 365, len(employees))
    hire = np.maximum(hire, people.birth[employees] + 22 * 365)
    g_issue = np.maximum(np.concatenate([hire, hire[two]]), ent.start[g_ent])
    keep_g = g_issue < window.end
    g_emp, g_ent, g_prod, g_issue = g_emp[keep_g], g_ent[keep_g], g_prod[keep_g], g_issue[keep_g]
    g = len(g_emp)

    holder_all = np.concatenate([holder, np.full(g, -1)])
    enterprise = np.concatenate([np.full(m, -1), g_ent])
    insured_all = np.concatenate([insured, g_emp])
    relation_all = np.concatenate([relation, np.full(g, "employee")])
    product_all = np.concatenate([product, g_prod])
    channel_all = np.concatenate([np.array(["agent", "bancassurance", "online", "telesales", "group"])[channel], np.full(g, "group")])
    branch_all = np.concatenate([branch, branch_codes[ent.city[g_ent]]])
    issue_all = np.concatenate([issue, g_issue])
    total = m + g
    effective = issue_all + rng.integers(0, 4, total)
    # group cover renews on the enterprise's anniversary: its effective date carries it
    grp = enterprise >= 0
    ent_anniv_dom = ent.start[np.maximum(enterprise, 0)]
    years_since = np.maximum(0, ((effective - ent_anniv_dom) // 365))
    effective = np.where(grp, np.maximum(add_years(ent_anniv_dom, years_since), issue_all), effective)
    freq_w = np.array([p.freq_weights for p in PRODUCTS])
    cum = np.cumsum(freq_w[product_all], axis=1)
    freq = (rng.random(total)[:, None] > cum / cum[:, -1:]).sum(axis=1)
    low = np.array([p.premium_low for p in PRODUCTS])[product_all]
    high = np.array([p.premium_high for p in PRODUCTS])[product_all]
    premium = low * (high / low) ** rng.beta(2, 3, total)
    premium = np.where(rng.random(total) < 0.6, np.round(premium, 0), np.round(premium, 2))
    term = np.array([p.term for p in PRODUCTS])[product_all]
    ins_birth = people.birth[insured_all]
    term_end = np.select(
        [term == "term20", term == "term30", term == "annuity"],
        [add_years(effective, 20) - 1, add_years(effective, 30) - 1, add_years(ins_birth, 75)],
        -1,
    )
    n_agents = max(5, people.n // 150)
    agent_no = rng.integers(0, n_agents, total)
    agent = fmt_codes("A", 100000 + agent_no, 6).astype(object)
    orphan = rng.random(total) < 0.10
    has_agent = np.isin(channel_all, ["agent", "telesales"]) & ~orphan
    agent[~has_agent] = None

    order = np.lexsort((np.arange(total), issue_all))
    rank = np.empty(total, np.int64)
    rank[order] = np.arange(total)
    policy_no = np.where(grp, fmt_codes("GP", 3_000_000_000 + rank, 10), fmt_codes("PA", 1_000_000_000 + rank, 10))
    return Policies(
        n=total, policy_no=policy_no, holder=holder_all, enterprise=enterprise, insured=insured_all,
        relation=relation_all, product=product_all, channel=channel_all, branch=branch_all, agent=agent,
        issue=issue_all, effective=effective, freq=freq, premium=premium, term_end=term_end,
    )


def month_index_bounds(window: Window) -> tuple[int, int]:
    """Months of the latent process: from SIGNAL_HISTORY_MONTHS before the start to 5 after the end."""
    m0 = int(month_of(window.start)) - SIGNAL_HISTORY_MONTHS
    m1 = int(month_of(window.end)) + 5
    return m0, m1


def stress_path(seed: int, people: People, window: Window, baseline: np.ndarray,
                rejected_person: np.ndarray, rejected_day: np.ndarray) -> np.ndarray:
    """Monthly latent stress per person: AR(1) around a baseline, hidden shocks, rejected-claim jumps."""
    rng = rng_for(seed, "stress")
    m0, m1 = month_index_bounds(window)
    nm = m1 - m0
    rho, sd = 0.85, 0.45
    s = np.empty((people.n, nm), dtype=np.float32)
    jumps = np.zeros((people.n, nm), dtype=np.float32)
    rm = month_of(rejected_day) - m0 + 1  # felt from the month after the rejection
    ok = (rm >= 0) & (rm < nm)
    np.add.at(jumps, (rejected_person[ok], rm[ok]), 1.2)
    cur = baseline + rng.normal(0, sd / np.sqrt(1 - rho**2), people.n)
    for k in range(nm):
        shock = np.where(rng.random(people.n) < 0.012, rng.uniform(1.5, 2.5, people.n), 0.0)
        cur = baseline + rho * (cur - baseline) + rng.normal(0, sd, people.n) + shock + jumps[:, k]
        s[:, k] = cur
    return s


class Stress:
    """Lookup of a person's stress at an epoch day."""

    def __init__(self, s: np.ndarray, window: Window):
        self.s = s
        self.m0, self.m1 = month_index_bounds(window)

    def at(self, person, day) -> np.ndarray:
        k = np.clip(month_of(day) - self.m0, 0, self.s.shape[1] - 1)
        return self.s[np.asarray(person), k].astype(np.float64)


@dataclass
class Lifecycle:
    """Every policy's end and the causal chains that led there (arrays over chains)."""

    # billing dues (one row per premium instalment in the window)
    due_policy: np.ndarray
    due_day: np.ndarray
    due_fail: np.ndarray
    due_cured: np.ndarray
    due_pfail: np.ndarray
    # surrender requests
    req_policy: np.ndarray
    req_day: np.ndarray
    req_surrender_day: np.ndarray  # BIG when retained
    # renewals of one-year cover (anniversaries in the window)
    ann_policy: np.ndarray
    ann_day: np.ndarray
    ann_increase: np.ndarray  # premium multiplier announced at the notice (1.0 none)
    ann_p_nonrenew: np.ndarray
    ann_nonrenew: np.ndarray


def run_lifecycle(seed: int, pol: Policies, people: People, ent: Enterprises, stress: Stress,
                  window: Window, orphan: np.ndarray) -> Lifecycle:
    rng = rng_for(seed, "lifecycle")
    h0 = window.months_back(SIGNAL_HISTORY_MONTHS)
    horizon = window.end + 120
    n = pol.n
    end = np.full(n, BIG, dtype=np.int64)
    status = np.full(n, "", dtype="U2")
    cause = np.full(n, "", dtype="U11")
    renew = pol.renew1y
    cash = pol.cash_value
    freq_m = np.array(FREQ_MONTHS)[pol.freq]
    indiv = pol.individual
    holder = np.where(indiv, pol.holder, pol.insured)

    def set_end(mask, day, st, why):
        better = mask & (day < end)
        end[better] = day[better]
        status[better] = st
        cause[better] = why

    # free-look cancellations
    cl = rng.random(n) < 0.01
    set_end(cl, pol.issue + rng.integers(3, 15, n), "CL", "cancel")
    # natural maturity of term products
    set_end(pol.term_end >= 0, pol.term_end + 1, "MA", "maturity")

    # before the signal window: simple hazards, no precursors delivered
    old = pol.effective < h0
    years_old = (h0 - pol.effective) / 365.25
    k_ann = np.floor(years_old).astype(np.int64)
    first_nr = rng.geometric(0.15, n)
    grp_ent_nr = rng.geometric(0.06, ent.n)
    first_nr = np.where(indiv, first_nr, grp_ent_nr[np.maximum(pol.enterprise, 0)])
    pre_nr = old & renew & (first_nr <= k_ann)
    set_end(pre_nr, add_years(pol.effective, first_nr), "MA", "non_renewal")
    t_lapse = rng.exponential(1 / 0.05, n) * 365.25
    t_surr = np.where(cash, rng.exponential(1 / 0.02, n) * 365.25, np.inf)
    regular = ~renew & (freq_m > 0)
    pre_la = old & regular & indiv & (pol.effective + t_lapse < h0) & (t_lapse < t_surr)
    set_end(pre_la, (pol.effective + np.minimum(t_lapse, 1e6)).astype(np.int64), "LA", "lapse")
    pre_su = old & cash & indiv & (pol.effective + t_surr < h0) & ~pre_la
    set_end(pre_su, (pol.effective + np.minimum(t_surr, 1e6)).astype(np.int64), "SU", "surrender")
    alive_h0 = end > np.maximum(h0, pol.issue)

    # anniversaries of one-year cover inside the window (individual and group)
    years_to_h0 = np.maximum(0, np.ceil((h0 - pol.effective) / 365.25).astype(np.int64) - 1)
    a_pol, a_k = [], []
    for j in range(0, 6):
        k = years_to_h0 + j
        k = np.maximum(k, 1)
        day = add_years(pol.effective, k)
        sel = renew & alive_h0 & (day >= h0) & (day < horizon)
        a_pol.append(np.nonzero(sel)[0])
        a_k.append(k[sel])
    a_pol = np.concatenate(a_pol)
    a_k = np.concatenate(a_k)
    uniq = np.unique(a_pol * 100 + a_k, return_index=True)[1]
    a_pol, a_k = a_pol[uniq], a_k[uniq]
    a_day = add_years(pol.effective[a_pol], a_k)
    notice = a_day - 75
    incr = np.where(rng.random(len(a_pol)) < 0.22, rng.uniform(1.1, 1.4, len(a_pol)), 1.0)
    s_notice = stress.at(holder[a_pol], notice)
    online = pol.channel[a_pol] == "online"
    logit = -2.9 + 1.2 * s_notice + 1.6 * (incr > 1) + 0.6 * orphan[a_pol] + 0.4 * online
    p_nr = sigmoid(logit)
    # group cover: the employer decides (no individual precursors)
    g_a = ~indiv[a_pol]
    p_nr = np.where(g_a, 0.0, p_nr)
    nonrenew = rng.random(len(a_pol)) < p_nr
    ent_year_nr = rng.random((ent.n, 8)) < 0.06
    g_idx = np.nonzero(g_a)[0]
    nonrenew[g_idx] = ent_year_nr[pol.enterprise[a_pol[g_idx]], np.minimum((a_day[g_idx] - h0) // 365, 7)]
    nr_day = np.where(nonrenew, a_day, BIG)
    first_nr_day = np.full(n, BIG, dtype=np.int64)
    np.minimum.at(first_nr_day, a_pol, nr_day)
    set_end(first_nr_day < BIG, first_nr_day, "MA", "non_renewal")
    incr = np.where(g_a, 1.0, incr)

    # premium instalments inside the window (individual regular-premium and single premiums)
    fm = np.maximum(freq_m, 1)
    start_month = month_of(pol.effective)
    h0_month = month_of(h0)
    k_min = np.where(freq_m > 0, np.maximum(0, -((start_month - h0_month) // fm)), 0)
    k_max = np.where(freq_m > 0, (month_of(horizon) - start_month) // fm, 0)
    cnt = np.where(alive_h0 | (pol.issue >= h0), np.maximum(0, k_max - k_min + 1), 0)
    cnt = np.where(freq_m == 0, (pol.effective >= h0).astype(np.int64), cnt)
    d_pol = np.repeat(np.arange(n), cnt)
    within = np.arange(len(d_pol)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    d_k = k_min[d_pol] + within
    d_day = add_months(pol.effective[d_pol], d_k * fm[d_pol])
    ok = (d_day >= h0) & (d_day < horizon) & (d_day < end[d_pol])
    d_pol, d_day = d_pol[ok], d_day[ok]
    s_due = stress.at(holder[d_pol], d_day)
    debit = pol.channel[d_pol] == "bancassurance"
    p_fail = sigmoid(-4.6 + 1.5 * s_due - 0.4 * debit)
    p_fail = np.where(indiv[d_pol] & (freq_m[d_pol] > 0), p_fail, 0.0)
    fail = rng.random(len(d_pol)) < p_fail
    cured = fail & (rng.random(len(d_pol)) < CURE_P)
    lapse_at = np.where(fail & ~cured, d_day + LAPSE_GRACE_DAYS, BIG)
    first_lapse = np.full(n, BIG, dtype=np.int64)
    np.minimum.at(first_lapse, d_pol, lapse_at)

    # surrender requests (cash-value individual policies), first request per policy
    m0 = stress.m0
    req_day = np.full(n, BIG, dtype=np.int64)
    elig = indiv & cash & (alive_h0 | (pol.issue >= h0))
    for mm in range(int(month_of(h0)), int(month_of(horizon)) + 1):
        day0 = int(month_start(mm))
        pending = elig & (req_day == BIG) & (pol.effective + 365 <= day0) & (end > day0)
        idx = np.nonzero(pending)[0]
        if len(idx) == 0:
            continue
        p = sigmoid(-7.2 + 1.6 * stress.s[holder[idx], mm - m0].astype(np.float64))
        hit = idx[rng.random(len(idx)) < p]
        req_day[hit] = day0 + rng.integers(0, 28, len(hit))
    r_pol = np.nonzero(req_day < BIG)[0]
    r_day = req_day[r_pol]
    surrender = rng.random(len(r_pol)) < SURRENDER_P
    r_sur = np.where(surrender, r_day + rng.integers(45, 81, len(r_pol)), BIG)
    keep_r = r_day < end[r_pol]
    r_pol, r_day, r_sur = r_pol[keep_r], r_day[keep_r], r_sur[keep_r]
    sur_day = np.full(n, BIG, dtype=np.int64)
    sur_day[r_pol] = r_sur

    set_end(first_lapse < BIG, first_lapse, "LA", "lapse")
    set_end(sur_day < BIG, sur_day, "SU", "surrender")
    pol.end = end
    pol.end_status = status
    pol.end_cause = cause

    # drop chain rows that fall after the policy ended (dues) or are moot
    keep_d = d_day < end[d_pol]
    keep_a = a_day <= end[a_pol]
    return Lifecycle(
        due_policy=d_pol[keep_d], due_day=d_day[keep_d], due_fail=fail[keep_d], due_cured=cured[keep_d],
        due_pfail=p_fail[keep_d],
        req_policy=r_pol, req_day=r_day, req_surrender_day=r_sur,
        ann_policy=a_pol[keep_a], ann_day=a_day[keep_a], ann_increase=incr[keep_a],
        ann_p_nonrenew=p_nr[keep_a], ann_nonrenew=nonrenew[keep_a],
    )
