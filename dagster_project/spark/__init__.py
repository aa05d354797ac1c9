"""Spark, when CDP_ENGINE=spark: the session the platform's Spark jobs run with, and the jobs.

dbt builds the models with dbt-spark (profiles.yml, output `spark`). Identity resolution runs
on Spark, its DuckDB SQL written as Spark SQL statement by statement (`connection.py`); the other
Python assets (privacy requests, quality checks, churn scoring, the analysts' file) exchange
tables with Spark. Both go through short Spark jobs (`jobs.py`), each in its own process: Spark's embedded Derby
metastore admits one JVM at a time, and a job's JVM ends with it, so the next dbt step (another
JVM) can open it. The session's parameters are the dbt profile's (`session.spark_conf`), so dbt
and the jobs see the same metastore, warehouse and time zone.
"""
