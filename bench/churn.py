"""Churn early warning at full size: simulate, build, train, and compare with the simulator's oracle.

    .venv/bin/python bench/churn.py                         # 20k persons x 30 days, seeds 1 and 2
    .venv/bin/python bench/churn.py --persons 50000 --days 30 --seeds 1 2 3

For each seed (tests/fixtures/churn.py ChurnWarehouse, the lean path of the integration tests):
simulate into a temp folder, ingest every delivery with the ingest loader, build dbt up to the
churn labels with the truth's month-end as-of dates added to the rolling ones, resolve
identities, materialise the churn_model and churn_scores assets and build the retention actions
(the same code as the daily build, without Dagster's per-date ingest bookkeeping). Prints, on the evaluation block (a later period the model never
trained on): ROC-AUC against the oracle's (policy_risk.churn_prob_90d) on the same rows, the
share of churn events 45-90 days ahead held by the top 20% of policyholders (model and oracle),
PR-AUC, top-decile precision/recall, median lead time, customer-level AUCs, and the runtimes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_seed(persons: int, days: int, seed: int, keep: Path | None) -> dict:
    from tests.fixtures.churn import ChurnWarehouse, evaluate_against_truth

    root = keep or Path(tempfile.mkdtemp(prefix=f"churn-bench-{seed}-"))
    if keep:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
    try:
        wh = ChurnWarehouse(root)
        seconds = wh.build(persons=persons, days=days, seed=seed)
        t0 = time.perf_counter()
        meta = wh.train_and_score()
        seconds["train_and_score_s"] = round(time.perf_counter() - t0, 1)
        seconds["train_s"] = meta["scoring/churn_model"].get("train_seconds")
        out = evaluate_against_truth(wh.path, wh.truth, wh.model()).as_dict()
        out["seconds"] = seconds
        out["customers_scored"] = meta["marts/churn_scores"].get("customers")
        return out
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--persons", type=int, default=20_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--keep", type=Path, default=None, help="build under this folder (one sub-folder per seed) and keep it")
    args = p.parse_args(argv)
    results = {}
    for seed in args.seeds:
        keep = args.keep / f"seed{seed}" if args.keep else None
        r = run_seed(args.persons, args.days, seed, keep)
        results[seed] = r
        print(f"\nseed {seed}: {args.persons:,} persons x {args.days} days")
        print(f"  month-end as-of dates evaluated: {', '.join(r['month_end_dates'])}  ({r['rows']:,} policy rows, "
              f"{r['churned']} churned within 90 days)")
        print(f"  ROC-AUC {r['roc_auc']:.4f}   oracle {r['oracle_roc_auc']:.4f}   gap {r['gap_to_oracle']:+.4f}")
        print(f"  top 20% of policyholders hold {r['top20_share_45_90d']:.1%} of the {r['early_warning_events']} "
              f"churn events 45-90 days ahead (oracle {r['oracle_top20_share_45_90d']:.1%})")
        e = r["evaluation_all_dates"]
        print(f"  all evaluation dates: ROC-AUC {e['roc_auc']:.4f}, PR-AUC {e['pr_auc']:.4f}, top decile precision "
              f"{e['top_decile_precision']:.3f} / recall {e['top_decile_recall']:.3f}, top-20% share "
              f"{e['top20_early_warning_share']:.3f}, median lead {e['median_lead_days']} d over "
              f"{e['alerted_events']} alerted events ({e['events_alerted_45d_ahead']} alerted 45+ d ahead), "
              f"customer AUC {e['customer_roc_auc']:.4f} / none-left AUC {e['customer_none_left_roc_auc']:.4f}, "
              f"Brier {e['brier']:.5f}")
        print(f"  split {json.dumps(r['split'])}")
        print(f"  top features {json.dumps(r['top_features'])}")
        print(f"  seconds {json.dumps(r['seconds'])}")
    print("\n" + json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
