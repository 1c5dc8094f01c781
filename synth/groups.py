"""The population groups and the scripted person, shared by every generator step."""

GROUPS = ("plus", "mixed", "minus", "mas", "background")
PLUS, MIXED, MINUS, MAS, BACKGROUND = range(5)
#: Person 0: the top-list woman of the report's 44,000-kr card episode.
HEROINE = 0
