"""Polls and debates: the domain code, with no Discord in it.

The debates feature (``cogs/debates``) turns slash-command options and button clicks into calls
to these modules and stores what they return (SQL: ``bot/repositories/polls.py``, ``debates.py``,
``debates_data.py``). Every function here is pure or pure-asyncio, takes ``now`` explicitly where
time matters, and raises :class:`bot.errors.UserFacingError` with a message meant for the member
when the input is wrong.

Modules:

- ``records``: what the repositories return (polls, debates, arguments) and the kinds as enums.
- ``errors``: the repositories' domain errors (the services word them for members).
- ``durations``: ``30m`` / ``2h`` / ``1h30m`` parsing and the bounds for polls and debates.
- ``options``: cleaning questions, motions and ``a | b | c`` option lists (custom and native polls).
- ``poll``: :class:`PollSpec`, who may vote, and the toggle rules of a vote click.
- ``tally``: counting votes, percentages, turnout and the results text.
- ``layout``: buttons or a select menu for a poll's options.
- ``charts``: PNG bar charts (matplotlib Agg), rendered in the bot's chart workers, and the
  words that describe them.
- ``export``: a poll's results as CSV; times in a member's data export.
- ``debate``: parsing the debate format, stance votes and the result of a quick debate.
- ``oxford``: the Oxford format: phase schedule and the Intelligence Squared rule.
- ``arguments``: arguments posted for a side and the strongest ones.
- ``topics``: the bank of motions in ``data/topics.json``.
- ``schedule``: the weekly debate setting (``off`` or ``mon 18:00`` UTC).
- ``coalesce``: throttling message edits per key (a burst of votes -> a few edits).
"""
