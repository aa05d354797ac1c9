"""Churn assets: the model (trained on a schedule, kept between runs) and the daily scores.

- `churn_model` (multi-asset: `scoring/churn_model`, `marts/churn_model_runs`): trains, calibrates
  and evaluates a LightGBM model on marts.churn_features + marts.churn_labels (model.py), saves
  the artefact under `<data>/models/churn/<version>/` and appends a row to marts.churn_model_runs.
  In the daily build it retrains only when no model exists or the current one is older than
  `model.retrain_every_days`; the weekly `churn_retraining_schedule` retrains regardless
  (run config `force: true`). A model below `model.min_promote_roc_auc` is recorded, not used.
- `churn_scores` (`marts/churn_scores`): scores every in-force individual policy as of the latest
  business date with the current model, rolls the policies up to their customer (1 - prod(1 - p)),
  the risk band and the top three reasons (TreeSHAP contributions of the customer's riskiest
  policy, in plain words from churn.yaml); replaces that date's rows.

Both write the warehouse, so both run in the `duckdb` pool. Both go through the engine adapter
`Warehouse.workspace()` (resources.py), as identity resolution does: on DuckDB the warehouse
itself; with CDP_ENGINE=spark the tables they read are loaded from Spark into an in-memory DuckDB
and the tables they write (marts.churn_model_runs, marts.churn_scores) are published back to
Spark, where the dbt models that read them (retention_actions) and the privacy purge find them.
"""


import json
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import yaml

from ..identity.assets import table_columns
from ..resources import DUCKDB_POOL, Rows, Warehouse
from ..settings import DBT_PROJECT_DIR, get_settings
from .config import ChurnConfig, load_churn_config
from .features import FEATURE_NAMES
from .model import ChurnModel, TrainingDataError, load_model, save_model, train_model

SOURCES_YAML = DBT_PROJECT_DIR / "models" / "marts" / "churn" / "_churn__sources.yml"
CHURN_FEATURES = dg.AssetKey(["marts", "churn_features"])
CHURN_LABELS = dg.AssetKey(["marts", "churn_labels"])
CHURN_MODEL = dg.AssetKey(["scoring", "churn_model"])
CHURN_MODEL_RUNS = dg.AssetKey(["marts", "churn_model_runs"])
CHURN_SCORES = dg.AssetKey(["marts", "churn_scores"])
# what each asset reads from the warehouse (on Spark: loads into its DuckDB workspace). The tables
# it writes are read too: on Spark a publish replaces a table's rows, so the rows kept (earlier
# runs, earlier as-of dates) must be in the workspace.
CHURN_MODEL_READS = ("marts.churn_features", "marts.churn_labels", "marts.int_churn_as_of_dates",
                     "marts.churn_model_runs")
# scoring needs the features of the latest business date only (churn_features holds every as-of date)
LATEST_AS_OF = "as_of = (select max(as_of) from marts.int_churn_as_of_dates where is_latest)"
CHURN_SCORES_READS = (Rows("marts.churn_features", LATEST_AS_OF), "marts.int_churn_as_of_dates", "marts.churn_scores")


def _columns(table: str) -> str:
    return table_columns(table, source_name="churn", sources_yaml=SOURCES_YAML)


def _column_names(table: str) -> list[str]:
    doc = yaml.safe_load(SOURCES_YAML.read_text(encoding="utf-8"))
    spec = next(t for t in doc["sources"][0]["tables"] if t["name"] == table)
    return [c["name"] for c in spec["columns"]]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists marts")
    con.execute(f"create table if not exists marts.churn_scores ({_columns('churn_scores')})")
    con.execute(f"create table if not exists marts.churn_model_runs ({_columns('churn_model_runs')})")


def training_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Features and labels of every label-complete (policy, as-of date)."""
    return con.execute("""
        select f.*, l.churned, l.churned_early_warning, l.churn_event, l.churn_date, l.customer_churned,
               l.customer_none_left
        from marts.churn_features as f
        inner join marts.churn_labels as l on l.policy_no = f.policy_no and l.as_of = f.as_of
        where l.label_complete
        order by f.as_of, f.policy_no
    """).df()


def latest_business_date(con: duckdb.DuckDBPyConnection) -> date | None:
    row = con.execute("select max(as_of) from marts.int_churn_as_of_dates where is_latest").fetchall()
    return row[0][0] if row else None


def record_run(con: duckdb.DuckDBPyConnection, model: ChurnModel, latest: date) -> None:
    ev, sp = model.evaluation, model.split
    row = {
        "model_version": model.version, "trained_at": model.trained_at, "latest_business_date": latest,
        "train_from": sp["train"][0], "train_to": sp["train"][1],
        "calibration_from": sp["calibration"][0], "calibration_to": sp["calibration"][1],
        "evaluation_from": sp["evaluation"][0], "evaluation_to": sp["evaluation"][1],
        "training_rows": model.training_rows, "evaluation_rows": ev["rows"], "evaluation_churned": ev["churned"],
        "roc_auc": ev["roc_auc"], "pr_auc": ev["pr_auc"], "top_decile_precision": ev["top_decile_precision"],
        "top_decile_recall": ev["top_decile_recall"], "top20_early_warning_share": ev["top20_early_warning_share"],
        "median_lead_days": ev["median_lead_days"], "customer_roc_auc": ev["customer_roc_auc"],
        "customer_none_left_roc_auc": ev["customer_none_left_roc_auc"], "brier": ev["brier"],
        "promoted": model.promoted, "feature_importances": json.dumps(model.importances),
        "evaluation": json.dumps(ev, default=str), "artefact_path": str(model.path),
    }
    names = _column_names("churn_model_runs")
    frame = pd.DataFrame([{n: _nan_to_none(row[n]) for n in names}])
    con.register("_run", frame)
    try:
        con.execute(f"insert into marts.churn_model_runs select {', '.join(f'cast({n} as {_type(n)})' for n in names)} from _run")
    finally:
        con.unregister("_run")


def _type(column: str) -> str:
    doc = yaml.safe_load(SOURCES_YAML.read_text(encoding="utf-8"))
    for t in doc["sources"][0]["tables"]:
        for c in t["columns"]:
            if c["name"] == column:
                return c["data_type"].replace(" not null", "")
    raise KeyError(column)


def _nan_to_none(v: Any) -> Any:
    return None if isinstance(v, float) and v != v else v


def model_metadata(model: ChurnModel, retrained: bool) -> dict[str, Any]:
    ev = model.evaluation
    meta: dict[str, Any] = {
        "model_version": model.version,
        "retrained": retrained,
        "promoted": model.promoted,
        "trained_at": model.trained_at,
        "artefact": dg.MetadataValue.path(str(model.path)) if model.path else None,
        "split": dg.MetadataValue.json(model.split),
        "feature_importances": dg.MetadataValue.json(model.importances),
        "evaluation": dg.MetadataValue.json(ev),
        "best_iteration": int(model.params.get("best_iteration", 0)),
        "train_seconds": float(model.extra.get("train_seconds", 0.0)),
        "rows": dg.MetadataValue.json(model.extra.get("rows", {})),
        "positives": dg.MetadataValue.json(model.extra.get("positives", {})),
    }
    for k in ("roc_auc", "pr_auc", "top_decile_precision", "top_decile_recall", "top20_early_warning_share",
              "median_lead_days", "customer_roc_auc", "customer_none_left_roc_auc", "brier"):
        v = ev.get(k)
        if isinstance(v, (int, float)) and v == v:
            meta[k] = float(v)
    for f, share in list(model.importances.items())[:10]:
        meta[f"importance.{f}"] = float(share)
    return {k: v for k, v in meta.items() if v is not None}


def _model_age_days(model: ChurnModel, now: datetime) -> float:
    return (now - datetime.fromisoformat(model.trained_at)).total_seconds() / 86400


class ChurnTrainingConfig(dg.Config):
    force: bool = False  # retrain even when the current model is younger than model.retrain_every_days


@dg.multi_asset(
    name="churn_model",
    specs=[
        dg.AssetSpec(CHURN_MODEL, deps=[CHURN_FEATURES, CHURN_LABELS], group_name="scoring",
                     description="The current churn model (LightGBM, Platt-calibrated), its version, evaluation on a "
                                 "later held-out period and feature importances; artefact under <data>/models/churn/."),
        dg.AssetSpec(CHURN_MODEL_RUNS, deps=[CHURN_FEATURES, CHURN_LABELS], group_name="marts",
                     description="Append-only: one row per training run with its evaluation and importances."),
    ],
    pool=DUCKDB_POOL,
)
def churn_model(context: dg.AssetExecutionContext, config: ChurnTrainingConfig, warehouse: Warehouse):
    """Retrain when due (or forced), else keep the current model."""
    cfg = load_churn_config()
    data_dir = get_settings().data_dir
    now = datetime.now(timezone.utc)
    current = load_model(data_dir)
    due = config.force or current is None or _model_age_days(current, now) >= cfg.retrain_every_days
    if not due:
        context.log.info(f"churn model {current.version} kept (trained {current.trained_at}; retrain every "
                         f"{cfg.retrain_every_days} d)")
        yield dg.MaterializeResult(asset_key=CHURN_MODEL, metadata=model_metadata(current, retrained=False))
        yield dg.MaterializeResult(asset_key=CHURN_MODEL_RUNS, metadata={"appended": 0})
        return
    with warehouse.workspace(reads=CHURN_MODEL_READS) as ws:
        con = ws.con
        ensure_tables(con)
        frame = training_frame(con)
        latest = latest_business_date(con)
        try:
            model = train_model(frame, cfg, now=now)
        except TrainingDataError as exc:
            # too little history or too few churned policies for a time-based split: said, not faked;
            # scoring keeps the current model (or scores nothing until one exists)
            context.log.warning(f"churn model not trained: {exc}")
            yield dg.MaterializeResult(asset_key=CHURN_MODEL, metadata={
                "retrained": False, "trained": False, "reason": str(exc), "training_rows": int(len(frame)),
                "current_model": current.version if current else "none"})
            yield dg.MaterializeResult(asset_key=CHURN_MODEL_RUNS, metadata={"appended": 0})
            return
        save_model(model, data_dir)
        record_run(con, model, latest)
        ws.publish(["marts.churn_model_runs"])
        runs = con.execute("select count(*) from marts.churn_model_runs").fetchall()[0][0]
    context.log.info(f"churn model {model.version}: {json.dumps(model.evaluation, default=str)}")
    if not model.promoted:
        context.log.warning(f"churn model {model.version} not promoted: ROC-AUC {model.evaluation['roc_auc']} < "
                            f"{cfg.min_promote_roc_auc}; scoring keeps {current.version if current else 'no model'}")
    yield dg.MaterializeResult(asset_key=CHURN_MODEL, metadata=model_metadata(model, retrained=True))
    yield dg.MaterializeResult(asset_key=CHURN_MODEL_RUNS, metadata={"appended": 1, "runs": int(runs),
                                                                     "model_version": model.version})


def reasons_for(model: ChurnModel, frame: pd.DataFrame, cfg: ChurnConfig, k: int = 3) -> list[list[str]]:
    """The `k` features raising each row's score most (positive TreeSHAP contributions), in plain words."""
    contrib = model.contributions(frame)[:, :-1]
    values = frame[model.features].to_numpy(dtype=float)
    out = []
    for i in range(len(frame)):
        order = np.argsort(-contrib[i], kind="mergesort")
        words = [cfg.reason_text(model.features[j], values[i, j]) for j in order[:k] if contrib[i, j] > 0]
        out.append(words + [None] * (k - len(words)))
    return out


def score_customers(model: ChurnModel, policies: pd.DataFrame, cfg: ChurnConfig, scored_at: datetime) -> pd.DataFrame:
    """Customer rows of marts.churn_scores from the policy rows of one as-of date of churn_features."""
    columns = _column_names("churn_scores")
    if policies.empty:
        return pd.DataFrame(columns=columns)
    p = policies.copy()
    p["policy_probability"] = model.predict(p)
    p["log_keep"] = np.log1p(-np.clip(p["policy_probability"], 0, 1 - 1e-12))
    p = p.sort_values(["customer_id", "policy_probability", "policy_no"], ascending=[True, False, True])
    top = p.groupby("customer_id", sort=True).head(1).reset_index(drop=True)
    agg = p.groupby("customer_id", sort=True).agg(log_keep=("log_keep", "sum"), policies_scored=("policy_no", "count"))
    reasons = reasons_for(model, top, cfg)
    out = pd.DataFrame({
        "customer_id": top["customer_id"].to_numpy(),
        "as_of": pd.to_datetime(top["as_of"]).dt.date.to_numpy(),
        "probability": 1 - np.exp(agg.loc[top["customer_id"], "log_keep"].to_numpy()),
    })
    out["risk_band"] = [cfg.band_of(x) for x in out["probability"]]
    out["reason_1"] = [r[0] for r in reasons]
    out["reason_2"] = [r[1] for r in reasons]
    out["reason_3"] = [r[2] for r in reasons]
    out["top_policy_no"] = top["policy_no"].to_numpy()
    out["top_policy_probability"] = top["policy_probability"].to_numpy()
    out["policies_scored"] = agg.loc[top["customer_id"], "policies_scored"].to_numpy().astype(int)
    out["model_version"] = model.version
    out["scored_at"] = scored_at
    return out[columns]


def write_scores(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame, as_of: date) -> None:
    """Replace the as-of date's rows (idempotent re-runs)."""
    names = _column_names("churn_scores")
    con.execute("begin transaction")
    try:
        con.execute("delete from marts.churn_scores where as_of = ?", [as_of])
        con.register("_scores", scores)
        con.execute(f"insert into marts.churn_scores select {', '.join(f'cast({n} as {_type(n)})' for n in names)} "
                    "from _scores order by customer_id")
        con.unregister("_scores")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


@dg.asset(
    key=CHURN_SCORES,
    deps=[CHURN_MODEL, CHURN_FEATURES],
    group_name="marts",
    pool=DUCKDB_POOL,
    description="Daily churn scores per customer (probability, risk band, top three reasons, model version) "
                "as of the latest business date.",
)
def churn_scores(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    cfg = load_churn_config()
    model = load_model(get_settings().data_dir)
    started = time.perf_counter()
    with warehouse.workspace(reads=CHURN_SCORES_READS) as ws:
        con = ws.con
        ensure_tables(con)
        as_of = latest_business_date(con)
        if model is None:
            context.log.warning("no promoted churn model yet (see scoring/churn_model): nothing scored")
            return dg.MaterializeResult(metadata={"as_of": str(as_of), "customers": 0, "model_version": "none",
                                                  "reason": "no promoted churn model"})
        policies = con.execute("select * from marts.churn_features where as_of = ? order by policy_no", [as_of]).df()
        scores = score_customers(model, policies, cfg, datetime.now(timezone.utc))
        write_scores(con, scores, as_of)
        ws.publish(["marts.churn_scores"])
        history = con.execute("select count(distinct as_of) from marts.churn_scores").fetchall()[0][0]
    bands = scores["risk_band"].value_counts().to_dict() if len(scores) else {}
    return dg.MaterializeResult(metadata={
        "as_of": str(as_of),
        "model_version": model.version,
        "customers": int(len(scores)),
        "policies_scored": int(len(policies)),
        "mean_probability": float(scores["probability"].mean()) if len(scores) else 0.0,
        "customers_high": int(bands.get("high", 0)),
        "customers_medium": int(bands.get("medium", 0)),
        "customers_low": int(bands.get("low", 0)),
        "as_of_dates_kept": int(history),
        "seconds": round(time.perf_counter() - started, 2),
    })


churn_training_job = dg.define_asset_job(
    "churn_training",
    selection=dg.AssetSelection.assets(CHURN_MODEL, CHURN_MODEL_RUNS),
    description="Retrain the churn model on the features the daily build keeps current.",
)


@dg.schedule(
    name="churn_retraining_schedule",
    job=churn_training_job,
    cron_schedule="0 5 * * 1",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every Monday 05:00 Asia/Shanghai (before the daily build): retrain the churn model.",
)
def churn_retraining_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=context.scheduled_execution_time.isoformat(),
        run_config={"ops": {"churn_model": {"config": {"force": True}}}},
    )
