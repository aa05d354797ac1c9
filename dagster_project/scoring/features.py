"""The churn model's features: one list, the columns of dbt model marts.churn_features.

Each feature is numeric (flags are 0/1); null means "not known as of the date" (a source whose
delivered history does not cover the feature's window, a customer without an app account, no
bank balance ...) and LightGBM treats it as missing, never as zero. The plain words of each
feature (for the top reasons of a score) are in churn.yaml `reasons`; a unit test keeps this
list, the dbt model's YAML and the reasons in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    name: str
    group: str
    description: str


def _f(name: str, group: str, description: str) -> Feature:
    return Feature(name, group, description)


MODEL_FEATURES: tuple[Feature, ...] = (
    # the policy (what never changes) and where it stands in its life
    _f("renewable", "policy", "1 for one-year cover that must be renewed at its anniversary (seed churn_products)"),
    _f("cash_value", "policy", "1 for a policy with a cash value (it can be surrendered)"),
    _f("line_health", "policy", "1 for health cover"),
    _f("line_accident", "policy", "1 for accident cover"),
    _f("line_property", "policy", "1 for property cover"),
    _f("line_life", "policy", "1 for life cover"),
    _f("line_annuity", "policy", "1 for an annuity"),
    _f("channel_online", "policy", "1 when sold online"),
    _f("channel_bancassurance", "policy", "1 when sold through a bank"),
    _f("payment_annual", "policy", "1 when premiums are paid once a year"),
    _f("payment_monthly", "policy", "1 when premiums are paid monthly"),
    _f("is_orphan", "policy", "1 for an agent or telesales policy without a servicing agent"),
    _f("tenure_days", "policy", "days since the policy took effect"),
    _f("days_to_anniversary", "policy", "days to the policy's next anniversary (renewal date of one-year cover)"),
    _f("renewal_in_horizon", "policy", "1 when one-year cover reaches its anniversary within the horizon (renewal decision ahead)"),
    _f("days_to_next_due", "policy", "days to the next premium due date by the payment frequency (null for a single premium)"),
    _f("days_to_expiry", "policy", "days to the expiry of a term policy or annuity (null for one-year cover and whole life)"),
    # premium
    _f("annual_premium", "premium", "annual premium from the latest instalment known (billing)"),
    _f("premium_change_12m", "premium", "relative change of the instalment against one about a year earlier"),
    _f("announced_premium_change", "premium", "relative change of the latest known policy premium against the billed premium (an announced increase)"),
    # payments (billing)
    _f("unpaid_instalments", "payments", "instalments past due by more than late_payment_days and not known to be paid"),
    _f("max_days_past_due", "payments", "days past due of the oldest unpaid instalment"),
    _f("missed_payments_90d", "payments", "instalments due in the last 90 days missed (not paid within late_payment_days)"),
    _f("missed_payments_365d", "payments", "missed instalments due in the last 365 days"),
    _f("missed_payments_decayed", "payments", "missed instalments weighted by time decay (half-life payments)"),
    _f("days_since_missed_payment", "payments", "days since the due date of the latest missed instalment"),
    _f("days_since_unpaid_due", "payments", "days since the due date of the latest instalment due and not known to be paid (also within late_payment_days; null when all are paid)"),
    # service contacts (call_center tickets)
    _f("surrender_requested_days_ago", "tickets", "days since a surrender request about this policy (within 120 days)"),
    _f("customer_surrender_requests_90d", "tickets", "surrender requests of the customer in 90 days"),
    _f("complaints_30d", "tickets", "complaints in 30 days"),
    _f("complaints_90d", "tickets", "complaints in 90 days"),
    _f("complaints_decayed", "tickets", "complaints weighted by time decay (half-life tickets)"),
    _f("days_since_complaint", "tickets", "days since the latest complaint"),
    _f("service_tickets_90d", "tickets", "other service contacts in 90 days"),
    # claims
    _f("claims_rejected_365d", "claims", "the customer's claims rejected in a year"),
    _f("days_since_claim_rejected", "claims", "days since a claim of the customer was rejected"),
    _f("claims_rejected_decayed", "claims", "rejected claims weighted by time decay (half-life claims)"),
    _f("claims_paid_365d", "claims", "the customer's claims paid in a year"),
    _f("claims_open", "claims", "claims reported and not closed"),
    # app engagement
    _f("app_events_30d", "app", "app events in 30 days (null where the delivered app history does not cover 60 days)"),
    _f("app_trend", "app", "app events of the last 30 days against the 30 before, relative"),
    _f("days_since_app_use", "app", "days since the latest app event"),
    # agent / WeCom contact
    _f("wecom_contact", "contacts", "1 when the customer has a live WeCom contact with an agent"),
    _f("wecom_messages_30d", "contacts", "WeCom messages of the latest known contact versions"),
    _f("days_since_agent_message", "contacts", "days since the latest WeCom message with an agent"),
    # marketing
    _f("touches_opened_90d", "marketing", "marketing messages opened in 90 days"),
    _f("marketing_opt_outs_365d", "marketing", "marketing channels opted out of in a year"),
    # bank and credit
    _f("balance_trend_3m", "bank", "latest monthly bank balance against the average of the three before, relative"),
    _f("net_outflow_3m", "bank", "bank outflow minus inflow over the latest three months, relative to inflow"),
    _f("credit_band", "bank", "latest licensed credit band (1 = A best .. 5 = E worst)"),
    _f("credit_band_change", "bank", "credit band against the one two deliveries earlier (positive = worse)"),
    # the customer
    _f("policies_in_force", "customer", "the customer's individual policies in force"),
    _f("policies_churned_365d", "customer", "the customer's other policies that churned in a year"),
    _f("customer_tenure_days", "customer", "days since the customer's first policy was issued"),
    _f("service_tier_rank", "customer", "service tier as of the date (1 diamond .. 4 automated; tier history)"),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in MODEL_FEATURES)
