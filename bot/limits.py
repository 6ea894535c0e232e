"""Discord's limits, in one place (https://discord.com/developers/docs: messages, embeds,
components, application commands). Code that cuts text or checks a length names one of these."""

from __future__ import annotations

#: Characters of a message's content.
MESSAGE = 2000
#: All the text of all the embeds of one message together.
EMBED_TOTAL = 6000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
#: An attachment's description (its alt text for screen readers).
ATTACHMENT_DESCRIPTION = 1024
AUTHOR_NAME = 256
#: A component's custom id.
CUSTOM_ID = 100
BUTTON_LABEL = 80
SELECT_OPTION_LABEL = 100
SELECT_OPTIONS = 25
#: Buttons per action row, and rows per message.
ROW_BUTTONS = 5
ROWS = 5
MODAL_TITLE = 45
#: Autocomplete choices (and static choices) per option; a choice's name.
CHOICES = 25
CHOICE_NAME = 100
#: Options of one application command.
OPTIONS = 25
THREAD_NAME = 100
#: A message nonce; Discord refuses longer ones.
NONCE = 25
#: Native polls: answers, question and answer length, longest duration in hours.
POLL_ANSWERS = 10
POLL_QUESTION = 300
POLL_ANSWER = 55
POLL_HOURS = 32 * 24
#: Seconds within which an interaction must be acknowledged.
INTERACTION_ACK_SECONDS = 3.0
