"""Publication of the serious-blacklist and the evaluation results, with personal information protected, as the
rulebook's ``publication:`` block says (docs/publication.md).

Deliberately empty: :mod:`mincredit.rules._schema` imports :mod:`mincredit._publish._rules` for the rulebook's
``publication:`` block, so importing this package must not import the engine.  The public API is re-exported by
:mod:`mincredit` (``publish``, ``Publication``, ``read_publication``, ``verify_publication``,
``replay_publication``) from :mod:`mincredit._publish._api`.
"""
