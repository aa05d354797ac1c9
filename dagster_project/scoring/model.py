"""The churn model: LightGBM gradient boosting on point-in-time features, calibrated, evaluated on
a later period it never trained on, stored as a versioned artefact under the data folder.

Training rows are (policy, as-of date) pairs of marts.churn_features whose label is complete
(marts.churn_labels); the as-of dates are split by time (config `model`):

    train  <  calibration  <  (purge gap of horizon_days)  <  evaluation (the latest label-complete dates)

The booster is fitted on `train` (early stopping on `calibration`), Platt scaling on the
calibration block turns its scores into probabilities; with `model.refit_with_calibration` the
booster is then refitted on `train` + `calibration` with the rounds found (same Platt scaling).
Every figure is measured on the evaluation block, which neither fit touches: ROC-AUC and PR-AUC
(policy label), precision and recall in the top decile, the share of early-warning churn events
(45..90 days ahead) held by the top 20% of policyholders, the median lead time between the
first alert and the event, Brier score, the customer-level AUC of both customer labels, and
feature importances (total gain). The model that is evaluated is the model that scores: nothing
is refitted after the evaluation.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from . import metrics as M
from .config import ChurnConfig
from .features import FEATURE_NAMES

ARTEFACT_DIR = "models/churn"  # under the data folder (CDP_DATA_DIR), never the repo
CURRENT = "current.json"


class TrainingDataError(ValueError):
    """The training set cannot support a time-based split (names the block and what is missing)."""


@dataclass
class Split:
    train: list[date]
    calibration: list[date]
    evaluation: list[date]

    def describe(self) -> dict[str, Any]:
        def span(ds):
            return [min(ds).isoformat(), max(ds).isoformat()] if ds else None

        return {"train": span(self.train), "calibration": span(self.calibration), "evaluation": span(self.evaluation),
                "train_dates": len(self.train), "calibration_dates": len(self.calibration),
                "evaluation_dates": len(self.evaluation)}


def split_dates(dates: list[date], cfg: ChurnConfig) -> Split:
    """Time-based split of the label-complete as-of dates (see module docstring)."""
    ds = sorted(set(dates))
    if not ds:
        raise TrainingDataError("no as-of date with a complete label: deliver at least "
                                f"{cfg.horizon_days} days of history after the first as-of date")
    last = ds[-1]
    eval_from = last - timedelta(days=cfg.evaluation_days - 1)
    evaluation = [d for d in ds if d >= eval_from]
    fit_until = evaluation[0] - timedelta(days=cfg.purge_gap_days)
    fit = [d for d in ds if d <= fit_until]
    calib_from = fit_until - timedelta(days=cfg.calibration_days - 1)
    calibration = [d for d in fit if d >= calib_from]
    train = [d for d in fit if d < calib_from]
    for name, block in (("train", train), ("calibration", calibration), ("evaluation", evaluation)):
        if not block:
            raise TrainingDataError(
                f"the {name} block has no as-of date (label-complete dates {ds[0]}..{ds[-1]}; "
                f"evaluation {cfg.evaluation_days} d, purge gap {cfg.purge_gap_days} d, calibration "
                f"{cfg.calibration_days} d): deliver more history or shorten model.* in {cfg.path.name}")
    return Split(train, calibration, evaluation)


@dataclass
class Platt:
    """p = 1 / (1 + exp(-(a * raw + b))) fitted by maximum likelihood on the calibration block."""

    a: float = 1.0
    b: float = 0.0

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray) -> "Platt":
        raw = np.asarray(raw, dtype=float)
        y = np.asarray(y, dtype=float)
        # Platt's targets (avoid overconfidence on small blocks)
        n1, n0 = y.sum(), len(y) - y.sum()
        t = np.where(y > 0, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))

        def loss(w):
            z = w[0] * raw + w[1]
            return float(np.sum(np.logaddexp(0, z) - t * z))

        def grad(w):
            z = w[0] * raw + w[1]
            g = 1 / (1 + np.exp(-z)) - t
            return np.array([np.sum(g * raw), np.sum(g)])

        res = minimize(loss, np.array([1.0, 0.0]), jac=grad, method="L-BFGS-B")
        return cls(float(res.x[0]), float(res.x[1]))

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * np.asarray(raw, dtype=float) + self.b)))


@dataclass
class ChurnModel:
    version: str
    booster: Any  # lightgbm.Booster
    platt: Platt
    features: list[str]
    trained_at: str
    split: dict[str, Any]
    evaluation: dict[str, Any]
    importances: dict[str, float]
    params: dict[str, Any]
    training_rows: int
    promoted: bool = False
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def raw_scores(self, frame: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(frame[self.features].to_numpy(dtype=float), raw_score=True)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.platt(self.raw_scores(frame))

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-row TreeSHAP contributions to the raw score (features, then the bias column)."""
        return self.booster.predict(frame[self.features].to_numpy(dtype=float), pred_contrib=True)

    def meta(self) -> dict[str, Any]:
        return {"version": self.version, "trained_at": self.trained_at, "features": self.features,
                "platt": {"a": self.platt.a, "b": self.platt.b}, "split": self.split, "evaluation": self.evaluation,
                "importances": self.importances, "params": self.params, "training_rows": self.training_rows,
                "promoted": self.promoted, **self.extra}


# --------------------------------------------------------------------------- training


def _lightgbm_params(cfg: ChurnConfig) -> tuple[dict[str, Any], int, int]:
    p = dict(cfg.lightgbm)
    rounds = int(p.pop("num_boost_round"))
    stop = int(p.pop("early_stopping_rounds"))
    p.update({"objective": "binary", "verbose": -1, "seed": cfg.seed, "deterministic": True,
              "force_row_wise": True, "num_threads": int(os.environ.get("CDP_MODEL_THREADS", "2"))})
    return p, rounds, stop


def model_version(cfg: ChurnConfig, frame: pd.DataFrame, trained_at: datetime) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(cfg.dbt_settings(), sort_keys=True).encode())
    h.update(json.dumps(cfg.lightgbm, sort_keys=True).encode())
    h.update(f"refit_with_calibration={cfg.refit_with_calibration}".encode())
    h.update(",".join(FEATURE_NAMES).encode())
    h.update(str(len(frame)).encode())
    h.update(str(int(frame["churned"].sum())).encode())
    h.update(str(frame["as_of"].max()).encode())
    return f"churn-{trained_at.strftime('%Y%m%dT%H%M%S')}-{h.hexdigest()[:8]}"


def train_model(frame: pd.DataFrame, cfg: ChurnConfig, *, now: datetime | None = None) -> ChurnModel:
    """Fit, calibrate and evaluate on `frame` (features + labels of label-complete as-of dates)."""
    import lightgbm as lgb

    started = time.perf_counter()
    frame = frame.copy()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    split = split_dates(list(frame["as_of"].unique()), cfg)
    blocks = {name: frame[frame["as_of"].isin(set(getattr(split, name)))] for name in ("train", "calibration", "evaluation")}
    for name, block in blocks.items():
        positives = int(block["churned"].sum())
        if positives < cfg.min_positive_labels:
            raise TrainingDataError(
                f"the {name} block ({getattr(split, name)[0]}..{getattr(split, name)[-1]}) holds {positives} churned "
                f"policies, fewer than model.min_positive_labels = {cfg.min_positive_labels} ({cfg.path.name}): "
                "simulate or deliver more customers or history")
    params, rounds, stop = _lightgbm_params(cfg)
    tr, ca, ev = blocks["train"], blocks["calibration"], blocks["evaluation"]
    dtrain = lgb.Dataset(tr[list(FEATURE_NAMES)].to_numpy(dtype=float), label=tr["churned"].to_numpy(),
                         feature_name=list(FEATURE_NAMES), free_raw_data=False)
    dcal = lgb.Dataset(ca[list(FEATURE_NAMES)].to_numpy(dtype=float), label=ca["churned"].to_numpy(), reference=dtrain)
    booster = lgb.train(params, dtrain, num_boost_round=rounds, valid_sets=[dcal], valid_names=["calibration"],
                        callbacks=[lgb.early_stopping(stop, verbose=False)])
    best = int(booster.best_iteration or rounds)
    cal_raw = booster.predict(ca[list(FEATURE_NAMES)].to_numpy(dtype=float), raw_score=True)
    platt = Platt.fit(cal_raw, ca["churned"].to_numpy())
    booster.free_dataset()
    if cfg.refit_with_calibration:
        # the calibration block holds the latest fit dates (the nearest to the dates scored): refit on
        # train + calibration with the early-stopped number of rounds; the Platt scaling stays the one
        # fitted out of sample on the calibration block (the refit booster has seen it)
        fit = pd.concat([tr, ca])
        dfit = lgb.Dataset(fit[list(FEATURE_NAMES)].to_numpy(dtype=float), label=fit["churned"].to_numpy(),
                           feature_name=list(FEATURE_NAMES))
        booster = lgb.train(params, dfit, num_boost_round=best)
        booster.free_dataset()
    model = ChurnModel(
        version="", booster=booster, platt=Platt(), features=list(FEATURE_NAMES), trained_at="", split=split.describe(),
        evaluation={}, importances={}, params={**params, "num_boost_round": rounds, "early_stopping_rounds": stop,
                                                "best_iteration": best,
                                                "refit_with_calibration": cfg.refit_with_calibration},
        training_rows=len(tr) + (len(ca) if cfg.refit_with_calibration else 0),
    )
    model.platt = platt
    gains = booster.feature_importance(importance_type="gain")
    total = float(gains.sum()) or 1.0
    model.importances = {f: round(float(g) / total, 5) for f, g in sorted(zip(FEATURE_NAMES, gains), key=lambda x: -x[1])}
    ev = ev.copy()
    ev["probability"] = model.predict(ev)
    model.evaluation = evaluate(ev, cfg)
    # out of sample: the early-stopped booster's scores (a refit booster has seen the calibration block)
    model.evaluation["calibration_brier"] = M.brier(ca["churned"], platt(cal_raw))
    trained = now or datetime.now(timezone.utc)
    model.trained_at = trained.isoformat(timespec="seconds")
    model.version = model_version(cfg, frame, trained)
    model.extra = {"train_seconds": round(time.perf_counter() - started, 2),
                   "rows": {k: int(len(v)) for k, v in blocks.items()},
                   "positives": {k: int(v["churned"].sum()) for k, v in blocks.items()}}
    model.promoted = bool(model.evaluation["roc_auc"] >= cfg.min_promote_roc_auc)
    return model


def lead_times(scored: pd.DataFrame, alert_probability: float, horizon_days: int) -> list[int]:
    """Days between the first alert (probability >= alert_probability) on a policy and its churn
    event, over the as-of dates within the horizon before the event; one figure per alerted event."""
    ev = scored[scored["churned"] == 1]
    out = []
    alerts = scored[scored["probability"] >= alert_probability]
    by_policy = alerts.groupby("policy_no")["as_of"].apply(list).to_dict()
    for policy_no, churn_date in ev.groupby("policy_no")["churn_date"].first().items():
        cd = pd.Timestamp(churn_date).date()
        dates = [d for d in by_policy.get(policy_no, []) if cd - timedelta(days=horizon_days) <= d < cd]
        if dates:
            out.append((cd - min(dates)).days)
    return out


def evaluate(scored: pd.DataFrame, cfg: ChurnConfig) -> dict[str, Any]:
    """Every figure on a scored block (`probability` beside the labels of churn_labels)."""
    y = scored["churned"].to_numpy()
    p = scored["probability"].to_numpy()
    prec10, rec10 = M.top_share(y, p, 0.10)
    cust = (scored.assign(q=np.log1p(-np.clip(p, 0, 1 - 1e-12)))
            .groupby(["as_of", "customer_id"])
            .agg(q=("q", "sum"), events=("churned_early_warning", "sum"), churned=("customer_churned", "max"),
                 none_left=("customer_none_left", "max"))
            .reset_index())
    cust["probability"] = 1 - np.exp(cust["q"])
    captured = sum(M.captured_share(g["probability"], g["events"], 0.20) * g["events"].sum()
                   for _, g in cust.groupby("as_of") if g["events"].sum() > 0)
    events = float(cust["events"].sum())
    leads = lead_times(scored, cfg.alert_probability, cfg.horizon_days)
    per_date = {str(d): round(M.roc_auc(g["churned"], g["probability"]), 4) for d, g in scored.groupby("as_of")}
    return {
        "rows": int(len(scored)),
        "churned": int(y.sum()),
        "roc_auc": round(M.roc_auc(y, p), 4),
        "pr_auc": round(M.pr_auc(y, p), 4),
        "top_decile_precision": round(prec10, 4),
        "top_decile_recall": round(rec10, 4),
        "top20_early_warning_share": round(captured / events, 4) if events else float("nan"),
        "early_warning_events": int(events),
        "median_lead_days": float(np.median(leads)) if leads else float("nan"),
        "alerted_events": len(leads),
        "events_alerted_45d_ahead": int(sum(1 for x in leads if x >= cfg.early_warning_days)),
        "brier": round(M.brier(y, p), 5),
        "mean_probability": round(float(p.mean()), 5),
        "churn_rate": round(float(y.mean()), 5),
        "customer_roc_auc": round(M.roc_auc(cust["churned"], cust["probability"]), 4),
        "customer_none_left_roc_auc": round(M.roc_auc(cust["none_left"], cust["probability"]), 4),
        "roc_auc_by_as_of": per_date,
    }


# --------------------------------------------------------------------------- artefacts


def artefact_root(data_dir: Path) -> Path:
    return Path(data_dir) / ARTEFACT_DIR


def save_model(model: ChurnModel, data_dir: Path) -> Path:
    """<data>/models/churn/<version>/{model.txt, meta.json}; a promoted model becomes current."""
    folder = artefact_root(data_dir) / model.version
    folder.mkdir(parents=True, exist_ok=True)
    model.booster.save_model(str(folder / "model.txt"))
    (folder / "meta.json").write_text(json.dumps(model.meta(), indent=1, default=_json_default), encoding="utf-8")
    model.path = folder
    if model.promoted:
        tmp = artefact_root(data_dir) / (CURRENT + ".tmp")
        tmp.write_text(json.dumps({"version": model.version, "trained_at": model.trained_at}), encoding="utf-8")
        tmp.replace(artefact_root(data_dir) / CURRENT)
    return folder


def load_model(data_dir: Path, version: str | None = None) -> ChurnModel | None:
    """The current (promoted) model, or `version`; None when none has been trained."""
    import lightgbm as lgb

    root = artefact_root(data_dir)
    if version is None:
        pointer = root / CURRENT
        if not pointer.exists():
            return None
        version = json.loads(pointer.read_text(encoding="utf-8"))["version"]
    folder = root / version
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    booster = lgb.Booster(model_file=str(folder / "model.txt"))
    return ChurnModel(
        version=meta["version"], booster=booster, platt=Platt(**meta["platt"]), features=meta["features"],
        trained_at=meta["trained_at"], split=meta["split"], evaluation=meta["evaluation"],
        importances=meta["importances"], params=meta["params"], training_rows=meta["training_rows"],
        promoted=meta["promoted"], path=folder,
        extra={k: v for k, v in meta.items() if k in ("train_seconds", "rows", "positives")},
    )


def _json_default(o):
    if isinstance(o, (date, datetime)):
        return o.isoformat()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if math.isnan(float(o)) else float(o)
    raise TypeError(type(o))
