"""Membership inference: a loss-threshold attack and a calibrated variant.

The plain attack guesses "member" for low loss (Yeom et al. 2018). The
calibrated one scores each record by how much training lowered its loss
relative to the initial model (difficulty calibration, Watson et al. 2022),
so naturally easy records do not look like members. As LiRA recommends,
the report gives the TPR at low FPR, not just the AUC.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from auditor.evidence import MiaResult

ROC_POINTS = np.geomspace(1e-3, 1.0, 40)
CONFIDENCE = 0.95
INTERVAL_METHOD = "DKW"


def advantage_interval(
    advantage: float, members: int, non_members: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """A simultaneous interval for the true advantage (best TPR - FPR over thresholds).

    The advantage is the largest gap between the two empirical score distributions. By the
    Dvoretzky-Kiefer-Wolfowitz inequality (Massart's constant), each empirical CDF is within
    sqrt(ln(4 / alpha) / (2 n)) of its true CDF everywhere with probability 1 - alpha/2, so the
    true advantage is within the sum of the two of the observed one. Deterministic: identical
    reruns give the identical interval."""
    alpha = 1 - confidence
    slack = sum(np.sqrt(np.log(4 / alpha) / (2 * n)) for n in (members, non_members) if n > 0)
    return max(0.0, advantage - slack), min(1.0, advantage + slack)


def _tpr_at(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    allowed = tpr[fpr <= target]
    return float(allowed.max()) if len(allowed) else 0.0


def attack(
    model_name: str,
    member_loss: np.ndarray,
    nonmember_loss: np.ndarray,
    member_initial_loss: np.ndarray,
    nonmember_initial_loss: np.ndarray,
) -> MiaResult:
    labels = np.concatenate([np.ones(len(member_loss)), np.zeros(len(nonmember_loss))])
    score = -np.concatenate([member_loss, nonmember_loss])
    calibrated = np.concatenate([member_initial_loss - member_loss, nonmember_initial_loss - nonmember_loss])
    fpr, tpr, _ = roc_curve(labels, score)
    advantage = float(np.max(tpr - fpr))
    low, high = advantage_interval(advantage, len(member_loss), len(nonmember_loss))
    cal_fpr, cal_tpr, _ = roc_curve(labels, calibrated)
    curve = [(float(f), round(float(np.interp(f, fpr, tpr)), 6)) for f in ROC_POINTS]
    return MiaResult(
        model=model_name,
        members=len(member_loss),
        non_members=len(nonmember_loss),
        auc=round(float(roc_auc_score(labels, score)), 6),
        tpr_at_0_1pct_fpr=round(_tpr_at(fpr, tpr, 0.001), 6),
        tpr_at_1pct_fpr=round(_tpr_at(fpr, tpr, 0.01), 6),
        advantage=round(advantage, 6),
        advantage_low=round(low, 6),
        advantage_high=round(high, 6),
        advantage_method=f"{INTERVAL_METHOD}, {CONFIDENCE:.0%} simultaneous over thresholds",
        calibrated_auc=round(float(roc_auc_score(labels, calibrated)), 6),
        calibrated_advantage=round(float(np.max(cal_tpr - cal_fpr)), 6),
        roc=curve,
    )
