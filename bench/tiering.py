"""Tier distribution (the pyramid) and tag fill rates of a built warehouse.

    .venv/bin/python bench/tiering.py [data/warehouse/cdp.duckdb]

Prints the share of customers per value tier, pyramid layer and service tier (all customers,
and customers with premium in force), and per tag of the dictionary its fill rate (share of
customers with a value), distinct values and the share of its most common value.
"""

import sys

import duckdb


def report(warehouse: str) -> None:
    con = duckdb.connect(warehouse, read_only=True)
    for column in ("value_tier", "pyramid_layer", "service_tier", "risk_grade", "loyalty_grade"):
        rows = con.execute(f"""
            select {column}, count(*) as customers,
                   round(100.0 * count(*) / sum(count(*)) over (), 1) as pct_all,
                   sum(case when annual_premium_in_force > 0 then 1 else 0 end) as with_premium,
                   round(100.0 * sum(case when annual_premium_in_force > 0 then 1 else 0 end)
                         / sum(sum(case when annual_premium_in_force > 0 then 1 else 0 end)) over (), 1) as pct_with_premium
            from marts.customer_tier group by 1 order by 2
        """).fetchall()
        print(f"\n{column}: value, customers, % of all, with premium, % of those with premium")
        for r in rows:
            print("  ", *r)
    total = con.execute("select count(*) from marts.customer_tag_profile").fetchone()[0]
    rows = con.execute("""
        select d.tag_code, d.category, d.sensitivity,
               count(t.customer_id) as filled, count(distinct t.tag_value) as distinct_values,
               max(t.n) as top_count
        from staging.tag_dictionary as d
        left join (select customer_id, tag_code, tag_value,
                          count(*) over (partition by tag_code, tag_value) as n
                   from marts.customer_tags) as t on t.tag_code = d.tag_code
        group by 1, 2, 3 order by 2, 1
    """).fetchall()
    print(f"\ntags ({len(rows)}) over {total} customers: code, category, sensitivity, fill %, distinct values, top value %")
    for code, cat, sens, filled, distinct, top in rows:
        print(f"   {code:28s} {cat:12s} {sens:10s} {100.0 * filled / total:6.1f}% {distinct:4d} "
              f"{100.0 * (top or 0) / max(filled, 1):6.1f}%")


if __name__ == "__main__":
    report(sys.argv[1] if len(sys.argv) > 1 else "data/warehouse/cdp.duckdb")
