"""``ocppscope check``: run the inspection core over recorded traffic and report, for people and for CI."""
