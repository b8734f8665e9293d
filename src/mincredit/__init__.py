"""mincredit."""
