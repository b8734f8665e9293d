"""``mincredit lint``: find every mistake in a rulebook that would make the engine score someone wrongly.

The package is split so that the rules are written once:

* :mod:`.codes` — every finding code with its severity and documentation (``--explain``, docs/lint.md);
* :mod:`.checks` — the semantic checks on a validated rulebook, shared with
  :func:`mincredit.rules._compiling.compile_rulebook`, which refuses a rulebook with some of them;
* :mod:`.intervals`, :mod:`.wording` — the range arithmetic and the reading of 以上/以下 in the wording;
* :mod:`.runner` — one file from bytes to findings (YAML, schema, checks, ``--against``);
* :mod:`.output` — text, JSON and SARIF 2.1.0;
* :mod:`.command` — the ``mincredit lint`` subcommand;
* :mod:`.docs` — regenerates the "Codes" section of docs/lint.md from :mod:`.codes`.

This module imports nothing, so that the rules package can import :mod:`.checks` without a cycle.
"""
