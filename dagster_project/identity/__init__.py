"""Identity resolution: person records in, stable customer ids out.

    dbt identity.int_person_records  ->  identity_resolution (assets.py)  ->  identity.customer_xref
                                                                          ->  identity.customer_id_history

One module per concern, in pipeline order:

- `config.py` + `matching.yaml`: thresholds, validated on load;
- `records.py`: the matching columns of every record (anchor = decisive identifier);
- `rules.py`: deterministic rules (valid ID or document number, ID hash and its typos, ID typo,
  same bad ID, insured `self`, WeChat account, enterprise name) -> units;
- `blocking.py`: candidate pairs (and the labelled training pairs), households;
- `linkage.py`: Fellegi-Sunter comparisons, m/u learnt from ID-labelled pairs, term-frequency levels;
- `clustering.py` + `engine.py`: constrained clustering (valid IDs never merge, conflicts and
  ambiguities stay apart), then a nameless record joins the one named customer holding its
  mobile; the whole run on one DuckDB connection;
- `name_evidence.py`: a customer without a valid ID joins the one customer holding its name with
  the same agent, its number under a name one character off, the policy it calls about under
  the holder's name, or its name at all (counted over the resolved customers);
- `stable_ids.py`: customer ids that survive daily runs and reproduce on a rebuild;
- `assets.py`: the Dagster asset (`run_resolution`: resolve, write, summarise, check);
  `on_spark.py`: the same with every query on Spark (CDP_ENGINE=spark, spark/connection.py);
- `evaluate.py`: scoring against a simulator's truth (tests and benchmarks only).
"""
