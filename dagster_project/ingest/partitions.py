"""Business dates as Dagster partitions.

Dynamic, not a fixed calendar: a partition exists for every business date some system has
delivered, so any landing folder that follows the contract loads without configuring a start
date. The landing sensor, the daily schedule and `cdp build` add dates as folders appear.
"""

from __future__ import annotations

import dagster as dg

BUSINESS_DATE = "business_date"

business_date_partitions = dg.DynamicPartitionsDefinition(name=BUSINESS_DATE)
