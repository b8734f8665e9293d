"""Publication of the serious-blacklist and the evaluation results (arts. 3, 15, 20), with personal information
protected (art. 4; regional measures arts. 3, 15, 27).

Deliberately empty: :mod:`mincredit.rules._schema` imports :mod:`mincredit._publish._rules` for the rulebook's
``publication:`` block, so importing this package must not import the engine.  The public API is re-exported by
:mod:`mincredit` (``publish``, ``Publication``, ``read_publication``, ``verify_publication``,
``replay_publication``) from :mod:`mincredit._publish._api`.
"""
