"""Stances: Discord-free domain code behind ``/stance``.

Modules (import what you need; nothing is re-exported here, so importing the package does not
pull in numpy-heavy or matplotlib code):

- :mod:`bot.stances.models`: ``Observation``, ``Source``/``SourceKind``, ``StatementVote``,
  ``Visibility``.
- :mod:`bot.stances.text`: ``clean_statement`` for opinion-map statements.
- :mod:`bot.stances.statistics`: ``distribution``, ``mean_position``, ``polarisation``,
  ``participation``, ``suppress_small``, ``summarise``.
- :mod:`bot.stances.trend`: ``parse_period``, ``compute_trend`` (numpy columns), ``trend_sums``.
- :mod:`bot.stances.profile`: ``build_profile``, ``compare``.
- :mod:`bot.stances.opinion_map`: ``build_opinion_map``.
- :mod:`bot.stances.charts`: PNG renderers (call them with ``asyncio.to_thread``).
- :mod:`bot.stances.export`: ``build_export``, ``export_bytes``.
- :mod:`bot.stances.retention`: ``purge_due``.

Expected input mistakes raise :class:`bot.errors.UserFacingError`; programming mistakes raise
``ValueError``.
"""
