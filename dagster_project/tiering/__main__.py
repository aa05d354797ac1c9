"""`python -m dagster_project.tiering validate [--seeds DIR]`: check the tiering rules and override requests."""

import argparse
import sys
from pathlib import Path

from .rules import SEED_DIR, TierRuleError, check_override_requests, validate_rules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.tiering")
    parser.add_argument("command", choices=["validate"])
    parser.add_argument("--seeds", type=Path, default=SEED_DIR, help="folder of the tiering seeds (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        vocab = validate_rules(args.seeds)
    except TierRuleError as exc:
        print(exc, file=sys.stderr)
        return 1
    for problem in check_override_requests(args.seeds):
        print(f"warning: {problem}")
    print(f"tiering rules OK: value tiers {sorted(vocab['value_tiers'])}, service tiers {sorted(vocab['service_tiers'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
