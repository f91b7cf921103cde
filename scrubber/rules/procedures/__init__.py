"""Procedure against diagnosis on back-pain claims (PX001-PX002): the pointed diagnosis supports
the procedure (region maps; Medicare chiropractic subluxation), from ``maps/backpain/procedures.toml``."""
