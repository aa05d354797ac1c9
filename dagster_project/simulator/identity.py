"""Identifiers as they really occur (SOURCES.md), generated and rendered in bulk.

True values are built as numpy byte matrices (one row per identifier), so check digits are
vectorised. Rendering a true value into one of its real-world variants (lowercase ``x``,
spaces, full-width digits, 15-digit legacy form, mistyped, junk, missing) is one DuckDB
``CASE`` over the whole column.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

# GB 11643: ISO 7064 MOD 11-2 over the first 17 digits
RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
RIC_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)

# GB 32100 unified social credit code: 31-character alphabet, MOD 31
USCC_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
# GB 11714 organisation code inside the USCC (positions 9-17): MOD 11
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])

MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158,
     159, 166, 176, 177, 178, 180, 181, 182, 183, 185, 186, 187, 188, 189, 198, 199]
)
JUNK_MOBILE = "13800000000"
JUNK_ID = "000000000000000000"

FULLWIDTH = "０１２３４５６７８９"


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers -> (n, width) matrix of their decimal digits."""
    values = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def _to_str(ascii_matrix: np.ndarray) -> np.ndarray:
    m = np.ascontiguousarray(ascii_matrix.astype(np.uint8))
    return m.view(f"S{m.shape[1]}").ravel().astype(f"U{m.shape[1]}")


def ric_check_char(body17: np.ndarray) -> np.ndarray:
    """(n, 17) digit matrix -> check characters as ASCII codes."""
    return RIC_CHECK[(body17 * RIC_WEIGHTS).sum(axis=1) % 11]


def make_resident_ids(area: np.ndarray, birth_yyyymmdd: np.ndarray, seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True 18-char IDs and their 15-digit legacy form (area + yymmdd + seq)."""
    body = np.concatenate([_digits(area, 6), _digits(birth_yyyymmdd, 8), _digits(seq, 3)], axis=1)
    check = ric_check_char(body)
    id18 = _to_str(np.concatenate([body + 48, check[:, None]], axis=1))
    legacy = np.concatenate([body[:, :6], body[:, 8:14], body[:, 14:17]], axis=1)
    id15 = _to_str(legacy + 48)
    return id18, id15


def mistype_ids(rng: np.random.Generator, id18: np.ndarray) -> np.ndarray:
    """Change one body digit: under MOD 11-2 any single-digit change breaks the check digit."""
    n = len(id18)
    m = np.frombuffer(np.asarray(id18, dtype="S18").tobytes(), dtype=np.uint8).reshape(n, 18).copy()
    pos = rng.integers(6, 17, n)
    delta = rng.integers(1, 10, n)
    rows = np.arange(n)
    m[rows, pos] = (m[rows, pos] - 48 + delta) % 10 + 48
    return _to_str(m)


def make_uscc(rng: np.random.Generator, area: np.ndarray) -> np.ndarray:
    """Valid unified social credit codes: '91' + area + organisation code (with check) + check."""
    n = len(area)
    org = rng.integers(0, 10, (n, 8))
    c = 11 - (org * ORG_WEIGHTS).sum(axis=1) % 11
    org_check = np.where(c == 10, 29, np.where(c == 11, 0, c))  # 'X' is index 29 of the alphabet
    idx = np.concatenate([np.tile([9, 1], (n, 1)), _digits(area, 6), org, org_check[:, None]], axis=1)
    check = (31 - (idx * USCC_WEIGHTS).sum(axis=1) % 31) % 31
    chars = USCC_ALPHABET[np.concatenate([idx, check[:, None]], axis=1)]
    return _to_str(chars)


def make_mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct 11-digit mobiles (never the junk number)."""
    junk = int(JUNK_MOBILE)
    nums = np.zeros(0, dtype=np.int64)
    while len(nums) < n:
        k = (n - len(nums)) * 11 // 10 + 16
        cand = rng.choice(MOBILE_PREFIXES, k) * 10**8 + rng.integers(0, 10**8, k)
        nums = np.concatenate([nums, cand[cand != junk]])
        _, first = np.unique(nums, return_index=True)
        nums = nums[np.sort(first)]
    return _to_str(_digits(nums[:n], 11) + 48)


# variant codes ---------------------------------------------------------------------------
ID_VALID, ID_LOWER_X, ID_SPACES, ID_FULLWIDTH, ID_LEGACY15, ID_MISTYPED, ID_MISSING, ID_JUNK = range(8)
MOB_PLAIN, MOB_PLUS86, MOB_0086, MOB_DASHES, MOB_FULLWIDTH, MOB_MISSING, MOB_JUNK = range(7)


def id_variant_probs(noise: str) -> np.ndarray:
    """valid, lower x, spaces, full-width, 15-digit, mistyped, missing, junk."""
    p = np.array([0.80, 0.02, 0.03, 0.015, 0.03, 0.015, 0.08, 0.01])
    if noise == "high":
        p = np.array([0.58, 0.04, 0.07, 0.04, 0.06, 0.05, 0.14, 0.02])
    return p / p.sum()


def mobile_variant_probs(noise: str) -> np.ndarray:
    """plain, +86 spaced, 0086-, dashes, full-width, missing, junk."""
    p = np.array([0.78, 0.04, 0.03, 0.04, 0.015, 0.08, 0.015])
    if noise == "high":
        p = np.array([0.55, 0.08, 0.06, 0.08, 0.05, 0.14, 0.04])
    return p / p.sum()


def render_ids(con: duckdb.DuckDBPyConnection, id18, id15, mistyped, variant: np.ndarray) -> pa.Array:
    """Render true IDs in their variant. `id15` is '' where no legacy form exists (then valid);
    non-resident document numbers (no digits check) pass through except missing/junk."""
    t = pa.table({"id18": pa.array(id18, pa.string()), "id15": pa.array(id15, pa.string()),
                  "bad": pa.array(mistyped, pa.string()), "v": pa.array(variant, pa.int8())})
    con.register("_ids", t)
    sql = f"""
        SELECT CASE
          WHEN id18 IS NULL OR v = {ID_MISSING} THEN NULL
          WHEN v = {ID_JUNK} THEN '{JUNK_ID}'
          WHEN length(id18) <> 18 THEN id18
          WHEN v = {ID_LOWER_X} THEN replace(id18, 'X', 'x')
          WHEN v = {ID_SPACES} THEN substr(id18, 1, 6) || ' ' || substr(id18, 7, 8) || ' ' || substr(id18, 15, 4)
          WHEN v = {ID_FULLWIDTH} THEN translate(id18, '0123456789', '{FULLWIDTH}')
          WHEN v = {ID_LEGACY15} AND id15 <> '' THEN id15
          WHEN v = {ID_MISTYPED} THEN bad
          ELSE id18 END AS id
        FROM _ids"""
    out = con.sql(sql).to_arrow_table().column(0).combine_chunks()
    con.unregister("_ids")
    return out


def render_mobiles(con: duckdb.DuckDBPyConnection, mobile, variant: np.ndarray) -> pa.Array:
    t = pa.table({"m": pa.array(mobile, pa.string()), "v": pa.array(variant, pa.int8())})
    con.register("_mob", t)
    sql = f"""
        SELECT CASE
          WHEN m IS NULL OR v = {MOB_MISSING} THEN NULL
          WHEN v = {MOB_JUNK} THEN '{JUNK_MOBILE}'
          WHEN v = {MOB_PLUS86} THEN '+86 ' || substr(m, 1, 3) || ' ' || substr(m, 4, 4) || ' ' || substr(m, 8, 4)
          WHEN v = {MOB_0086} THEN '0086-' || m
          WHEN v = {MOB_DASHES} THEN substr(m, 1, 3) || '-' || substr(m, 4, 4) || '-' || substr(m, 8, 4)
          WHEN v = {MOB_FULLWIDTH} THEN translate(m, '0123456789', '{FULLWIDTH}')
          ELSE m END AS m
        FROM _mob"""
    out = con.sql(sql).to_arrow_table().column(0).combine_chunks()
    con.unregister("_mob")
    return out


def canonical_id(raw: str) -> str | None:
    """Reference normaliser for tests: the 18-char uppercase canonical form, or None."""
    s = raw.translate(str.maketrans(FULLWIDTH, "0123456789")).replace(" ", "").upper()
    if len(s) == 15 and s.isdigit():
        body = s[:6] + "19" + s[6:]
        digits = np.array([int(c) for c in body])
        return body + chr(ric_check_char(digits[None, :])[0])
    return s if len(s) == 18 else None
