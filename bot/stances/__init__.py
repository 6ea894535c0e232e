"""Stances: Discord-free domain code behind ``/stance``.

Modules (import what you need; nothing is re-exported here, so importing the package does not
pull in numpy-heavy or matplotlib code):

- :mod:`bot.stances.models`: ``Observation``, ``Source``/``SourceKind``, ``Statement``,
  ``StatementVote``, ``VoteWord``, ``Visibility``, ``ForgetReport``, ``VoteMatrix``.
- :mod:`bot.stances.text`: ``clean_statement`` for opinion-map statements.
- :mod:`bot.stances.statistics`: ``distribution``, ``mean_position``, ``polarisation``,
  ``participation``, ``suppress_small``, ``summarise``.
- :mod:`bot.stances.trend`: ``parse_period``, ``compute_trend`` (numpy columns), ``trend_sums``,
  ``daily_trend`` (the same trend from per-day changes), ``day_of``.
- :mod:`bot.stances.community`: ``DailyChanges`` (per-day position changes),
  ``community_picture`` (summary + trend).
- :mod:`bot.stances.profile`: ``build_profile``, ``compare``.
- :mod:`bot.stances.opinion_map`: ``build_opinion_map``, ``opinion_map_from_votes`` (pol.is's
  method), built on :mod:`bot.stances.clustering` (projection, base clusters, groups) and
  :mod:`bot.stances.repness` (representative statements, group-informed consensus).
- :mod:`bot.stances.charts`, :mod:`bot.stances.map_chart`: PNG renderers and the words that
  describe them (render them with the bot's chart workers).
- :mod:`bot.stances.export`: ``build_export``, ``declared_positions``, ``authored_statements``,
  ``export_bytes``.

When a community's data is deleted after the bot left it is the core's business
(:mod:`bot.lifecycle`).

Expected input mistakes raise :class:`bot.errors.UserFacingError`; programming mistakes raise
``ValueError``.
"""
