"""Whole populations, streamed: read (JSON Lines, documents, Parquet/CSV) → evaluate (the kernel, or its
vectorised twin for columns) → write (JSON Lines, Parquet), chunk by chunk, in order, optionally in processes.

- :mod:`.plain` — a canonical JSON line decoded by msgspec straight into typed structs and handed to the kernel;
- :mod:`.evaluator` — one process's evaluator: the law on the day, the plain scorer, the engine for the rest;
- :mod:`.jsonl`, :mod:`.columnar` — the readers, cutting an input into units of whole subjects;
- :mod:`.vector` — the NumPy twin of the kernel for Parquet/CSV without explanations;
- :mod:`.write` — the output encodings and sinks (atomic files);
- :mod:`.run` — units to outcomes in order, in this process or in workers; the summary; the Python API.
"""
