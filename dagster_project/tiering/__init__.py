"""Customer tiering and tags: the rules (dbt seeds in dbt/seeds/tiering) and their validation.

The tiers and tags themselves are dbt models (dbt/models/marts/tiering, dbt/models/marts/tags);
this package checks the configuration a business user edits before anything runs.
"""

from .rules import RuleProblem, TierRuleError, check_override_requests, validate_rules

__all__ = ["RuleProblem", "TierRuleError", "check_override_requests", "validate_rules"]
